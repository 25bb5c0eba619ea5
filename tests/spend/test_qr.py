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


def test_the_version_1_matrix_is_qrcodes_for_every_voucher_and_payment_code_shape():
    """``redemption.qr`` lays version 1 itself; qrcode's matrix is the reference, module for module."""
    import random

    from redemption.qr import modules_v1
    from redemption.selectors import _qr_code
    from redemption.services.redemptions import CODE_ALPHABET, VOUCHER_CODE_LENGTH

    rng = random.Random(18)
    alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    samples = [
        *(
            "".join(rng.choice(CODE_ALPHABET) for _ in range(VOUCHER_CODE_LENGTH))
            for _ in range(600)
        ),
        *(str(rng.randrange(10**17, 10**18)) for _ in range(200)),  # payment codes: 18 digits
        *("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 34))) for _ in range(200)),
        *("".join(rng.choice(alphanumeric) for _ in range(rng.randint(1, 20))) for _ in range(300)),
    ]
    for data in samples:
        assert modules_v1(data) == _qr_code(data).modules, data


def test_what_version_1_cannot_hold_is_left_to_qrcode():
    from redemption.qr import modules_v1

    for data in ["x" * 120, "lower case", "1" * 35, "A" * 21, "https://example.cn/c/0f6c1b2e", ""]:
        assert modules_v1(data) is None
    assert qr_svg("A" * 21) == qrcode_svg("A" * 21)
