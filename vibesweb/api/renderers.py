"""JSON responses rendered with orjson (the standard library's encoder was a tenth of a
GET person), byte-for-byte what DRF's JSONRenderer writes for the API's bodies."""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer

# Datetimes, str subclasses (lazy translations, SafeString) and dataclasses go through
# DRF's encoder, so they are spelled as DRF spells them; non-str keys become strings.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_NON_STR_KEYS
)


class FastJSONRenderer(JSONRenderer):
    """Compact UTF-8 JSON, U+2028/U+2029 escaped as DRF does. Anything orjson refuses
    (integers past 64 bits, unknown types) and indented output go to DRF's renderer.
    One difference: NaN and infinities, which JSON cannot spell, are written as null
    where DRF's strict encoder raised."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if accepted_media_type and "indent" in accepted_media_type:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=self.encoder_class().default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
            rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                b"\xe2\x80\xa9", b"\\u2029"
            )
        return rendered
