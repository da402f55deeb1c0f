"""Member directory: paginated index pages, one detail page per firm (config in sources.yaml)."""

from crawler.base import ConfiguredSpider, DirectorySpider


class MemberDirectorySpider(ConfiguredSpider, DirectorySpider):
    name = "member_directory"
