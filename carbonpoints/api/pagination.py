from rest_framework.pagination import PageNumberPagination

from carbonpoints.sqlrows import SQLRows


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        if isinstance(queryset, SQLRows):  # the count and the asked page in one statement
            size = self.get_page_size(request)
            number = request.query_params.get(self.page_query_param) or "1"
            if size and number.isdigit() and int(number) >= 1:
                queryset.page_read((int(number) - 1) * size, size)
        return super().paginate_queryset(queryset, request, view)
