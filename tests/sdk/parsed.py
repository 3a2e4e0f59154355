"""What boto3 parsed, as JSON, for the drivers' reports."""
import datetime


def plain(value):
    """Timestamps as ISO text (a parsed one is a datetime), blobs as their length, and no
    ResponseMetadata (it varies per request)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value)}
    return value
