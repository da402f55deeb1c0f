"""PPE marketplace: category pages listing suppliers, one page per supplier (config in sources.yaml)."""

from crawler.base import ConfiguredSpider, DirectorySpider


class PpeMarketplaceSpider(ConfiguredSpider, DirectorySpider):
    name = "ppe_marketplace"
