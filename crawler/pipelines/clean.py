"""Clean: whitespace and entity debris out, nothing interpreted, nothing dropped.

Values stay as the page wrote them (normalising into canonical forms is resolve's job, where the
raw text is still at hand); only layout noise goes. Hostile strings (``<script>``, SQL) are kept
verbatim as text: they are data, stored through bound parameters, and flagged by validation.
"""

from __future__ import annotations

import html

from crawler.normalise import collapse

TEXT_FIELDS = ("name", "website", "street", "city", "state", "postal_code", "phone", "email", "certifications", "employees")


class CleanPipeline:
    def process_item(self, item):
        for field in TEXT_FIELDS:
            value = item.get(field)
            if value is not None:
                item[field] = collapse(html.unescape(str(value)) if "&" in str(value) else str(value))
        description = item.get("description")
        if description:
            paragraphs = [collapse(p) for p in str(description).split("\n\n")]
            item["description"] = "\n\n".join(p for p in paragraphs if p) or None
        for field in ("products", "categories"):
            values = item.get(field) or []
            seen, out = set(), []
            for value in values:
                value = collapse(str(value))
                if value and value.lower() not in seen:
                    seen.add(value.lower())
                    out.append(value)
            item[field] = out
        return item
