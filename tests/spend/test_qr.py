"""The voucher's QR code is drawn straight from the module matrix: the same SVG qrcode draws."""

import qrcode
import qrcode.image.svg

from redemption.selectors import qr_svg


def qrcode_svg(data: str) -> str:
    code = qrcode.QRCode(
        box_size=10, border=2, image_factory=qrcode.image.svg.SvgPathImage, mask_pattern=0
    )
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().to_string(encoding="unicode")


def test_the_svg_is_byte_for_byte_what_qrcode_draws():
    for data in [
        "DY49D87C5GXFPDMQ",
        "23456789ABCDEFGH",
        "123456789012345678",
        "x" * 120,
        "https://example.cn/certificates/donations/0f6c1b2e",
    ]:
        assert qr_svg(data) == qrcode_svg(data)


def test_a_code_is_drawn_once_and_a_retry_answers_the_same_bytes():
    qr_svg.cache_clear()
    first = qr_svg("RETRY23456789ABC")
    again = qr_svg("RETRY23456789ABC")
    assert again is first and qr_svg.cache_info().hits == 1
    assert first == qrcode_svg("RETRY23456789ABC")
