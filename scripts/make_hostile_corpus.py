#!/usr/bin/env python3
"""Writes fixtures/hostile/<worker>.jsonl: the hostile-input corpus of each worker (issue 13).

`postlens hostile WORKER --cases FILE` runs a corpus through the worker's real handler; the
format of a case is documented in crates/postlens/src/hostile.rs. Cases are generated so
that large inputs (a 250 KB id, a 4 MiB claim check) need not be written by hand. Each case
names the one outcome it must have: `ok` or the stable error code of its error event.
Run from the repository root; the outputs are committed.
"""
import json
from pathlib import Path

OUT = Path("fixtures/hostile")
SNS_ARN = "arn:aws:sns:us-east-1:000000000000:new-video-posted"


def sns(message: str, message_id: str = "sns-1") -> str:
    return json.dumps({"Type": "Notification", "MessageId": message_id, "TopicArn": SNS_ARN, "Message": message})


def big_field(base: dict, field: str, unit: str, times: int, items: bool = False) -> dict:
    """A body spec: `base` with `field` set to `unit` repeated `times` times (as one string,
    or with `items` as a list of that many strings), expanded by the runner."""
    head = json.dumps({k: v for k, v in base.items() if k != field})[:-1]
    head += ", " if len(head) > 1 else ""
    if items:
        return {"prefix": head + json.dumps(field) + ": [", "repeat": json.dumps(unit) + ", ", "times": times, "suffix": json.dumps(unit) + "]}"}
    return {"prefix": head + json.dumps(field) + ': "', "repeat": unit, "times": times, "suffix": '"}'}


def envelope_cases(subject: str, valid: dict, bare: str, valid_objects: dict = None) -> list:
    """Cases every worker's decoder meets, whatever the worker. `bare` is the outcome of an
    input holding only its subject id (`valid` a complete one, reading `valid_objects`)."""
    return [
        {"name": "empty body", "body": "", "expect": "empty_body"},
        {"name": "whitespace body", "body": " \n\t ", "expect": "empty_body"},
        {"name": "not JSON", "body": "<xml>nope</xml>", "expect": "invalid_json"},
        {"name": "JSON array", "body": "[1, 2, 3]", "expect": "schema_violation"},
        {"name": "JSON string", "body": "\"just a string\"", "expect": "schema_violation"},
        {"name": "100k-deep nesting", "body": {"repeat": "[", "times": 100_000}, "expect": "invalid_json"},
        {"name": "NaN literal", "body": '{"%s": "x", "n": NaN}' % subject, "expect": "invalid_json"},
        {"name": "byte order mark", "body": "\ufeff" + json.dumps(valid), "expect": "invalid_json"},
        {"name": "trailing garbage", "body": json.dumps(valid) + "}", "expect": "invalid_json"},
        {"name": "SNS without Message", "body": json.dumps({"Type": "Notification", "TopicArn": SNS_ARN}), "expect": "invalid_envelope"},
        {"name": "SNS Message not JSON", "body": sns("not json"), "expect": "invalid_json"},
        {"name": "SNS in SNS", "body": sns(sns(json.dumps(valid))), "expect": "schema_violation"},
        {"name": "claim check without uri", "input": {"claim_check": {"bucket": "x"}}, "expect": "invalid_envelope"},
        {"name": "claim check bucket S3 cannot name", "input": {"claim_check": {"s3_uri": "s3://Claims_Bucket/x.json"}}, "expect": "invalid_envelope"},
        {"name": "claim check key over 1024 bytes", "input": {"claim_check": {"s3_uri": "s3://claims/" + "k" * 2000}}, "expect": "invalid_envelope"},
        {"name": "claim check missing object", "input": {"claim_check": {"s3_uri": "s3://claims/missing.json"}}, "expect": "claim_check_missing"},
        {"name": "claim check not JSON", "input": {"claim_check": {"s3_uri": "s3://claims/binary"}},
         "objects": {"s3://claims/binary": {"text": "\u0000\u0001binary"}}, "expect": "invalid_json"},
        # 4 MiB of JSON: as a serde_json::Value it would take ~40x that.
        {"name": "4 MiB claim-checked array", "input": {"claim_check": {"s3_uri": "s3://claims/array.json"}},
         "objects": {"s3://claims/array.json": {"repeat": "[1,{},\"\"],", "times": 400_000,
                                                "prefix": '{"%s": "big", "event_id": "e-big", "junk": [' % subject, "suffix": "0]}"}},
         "expect": bare},
        {"name": "claim check over 4 MiB", "input": {"claim_check": {"s3_uri": "s3://claims/huge.json"}},
         "objects": {"s3://claims/huge.json": {"repeat": " ", "times": 5 * 1024 * 1024, "prefix": "{}"}},
         "expect": "input_too_large"},
        {"name": "250 KB subject id", "body": big_field(valid, subject, "v", 250_000), "expect": "schema_violation"},
        {"name": "250 KB event id", "body": big_field(valid, "event_id", "e", 250_000), "expect": "schema_violation"},
        {"name": "numeric subject id", "input": {**valid, subject: 12345}, "expect": "schema_violation"},
        {"name": "blank subject id", "input": {**valid, subject: "   "}, "expect": "schema_violation"},
        {"name": "200k repeated keys", "body": {"prefix": "{", "repeat": '"k": 0, ', "times": 200_000, "suffix": '"%s": "keys"}' % subject},
         "expect": bare},
        {"name": "valid input", "input": valid, "objects": valid_objects or {}, "expect": "ok"},
    ]


def caption_cases() -> list:
    captions = [json.loads(line) for line in Path("fixtures/hostile/captions/captions.jsonl").read_text().splitlines() if line]
    cases = []
    for i, case in enumerate(captions):
        post = {"video_id": f"cap-{i}", "caption": case["caption"]}
        if case["market"]:
            post["market"] = case["market"]
        cases.append({"name": f"caption {i}: {case['caption'][:40]!r}", "input": post, "expect": "ok"})
    cases += [
        {"name": "caption over 16 KiB", "body": big_field({"video_id": "big"}, "caption", "a", 17_000), "expect": "input_too_large"},
        {"name": "market of three letters", "input": {"video_id": "m", "caption": "x", "market": "NGA"}, "expect": "schema_violation"},
        {"name": "caption is a number", "input": {"video_id": "n", "caption": 5}, "expect": "schema_violation"},
        {"name": "101 detections", "input": {"video_id": "d", "detections": [{"label": "cup", "score": 0.5}] * 101}, "expect": "input_too_large"},
        {"name": "detection score NaN-like", "input": {"video_id": "d2", "detections": [{"label": "cup", "score": 7}]}, "expect": "schema_violation"},
    ]
    return cases


def text_cases() -> list:
    def doc(doc_id: str, **fields) -> dict:
        return {"doc_id": doc_id, "domain": "general", **fields}

    sentence = "This is a sentence that repeats itself in a boilerplate way. "
    return [
        {"name": "multi-member gzip", "input": doc("gz2", s3_uri="s3://documents/two.gz"),
         "objects": {"s3://documents/two.gz": {"gzip_members": ["First member of the document. ", "Second member, which a single-member reader drops."]}},
         "expect": "ok"},
        {"name": "gzip bomb", "input": doc("bomb", s3_uri="s3://documents/bomb.gz"),
         "objects": {"s3://documents/bomb.gz": {"repeat": "A", "times": 64 * 1024 * 1024, "gzip": True}}, "expect": "text_too_large"},
        {"name": "truncated gzip", "input": doc("cut", s3_uri="s3://documents/cut.gz"),
         "objects": {"s3://documents/cut.gz": {"file": "media/truncated.gz"}}, "expect": "gzip_invalid"},
        {"name": "object not UTF-8", "input": doc("latin", s3_uri="s3://documents/latin.txt"),
         "objects": {"s3://documents/latin.txt": {"file": "media/latin-1.txt"}}, "expect": "text_not_utf8"},
        {"name": "object over 8 MiB", "input": doc("big-object", s3_uri="s3://documents/big.txt"),
         "objects": {"s3://documents/big.txt": {"repeat": "word ", "times": 2 * 1024 * 1024}}, "expect": "object_too_large"},
        {"name": "bucket off the list", "input": doc("foreign", s3_uri="s3://elsewhere/doc.txt"), "expect": "bucket_not_allowed"},
        {"name": "key over 1024 bytes", "input": doc("longkey", s3_uri="s3://documents/" + "k" * 2000), "expect": "s3_uri_invalid"},
        {"name": "missing document", "input": doc("gone", s3_uri="s3://documents/gone.txt"), "expect": "object_not_found"},
        {"name": "text and s3_uri", "input": doc("both", text="t", s3_uri="s3://documents/x"), "expect": "text_and_s3_uri"},
        {"name": "neither text nor s3_uri", "input": doc("none"), "expect": "text_missing"},
        {"name": "text over 1 MiB", "body": big_field(doc("long"), "text", "w ", 600_000), "expect": "text_too_large"},
        {"name": "1 MiB of one word", "body": big_field(doc("oneword"), "text", "a", 1_000_000), "expect": "ok"},
        {"name": "20k short sentences", "body": big_field(doc("sentences"), "text", "Yes. ", 20_000), "expect": "ok"},
        {"name": "boilerplate, long", "body": big_field(doc("boiler"), "text", sentence, 600), "expect": "ok"},
        {"name": "emoji only", "input": doc("emoji", text="👩‍👩‍👧‍👦🔥" * 2_000), "expect": "ok"},
        {"name": "control characters", "input": doc("control", text="\u0000\u0001\u001b[31m red \u202e reversed \u200b" * 100), "expect": "ok"},
        {"name": "10,000 references", "body": big_field(doc("refs", text="Some text."), "references", "a reference", 10_000, items=True), "expect": "input_too_large"},
        {"name": "1 MB reference", "body": {**big_field(doc("bigref", text="Some text."), "references", "r", 1_000_000), "suffix": '"]}'} | {"prefix": big_field(doc("bigref", text="Some text."), "references", "r", 1)["prefix"].replace('"references": "', '"references": ["')}, "expect": "input_too_large"},
        {"name": "1 MB prompt", "body": big_field(doc("bigprompt", text="Some text."), "prompt", "p", 1_000_000), "expect": "input_too_large"},
        {"name": "sixteen references", "input": doc("refs16", text="Some text here. And more.", prompt="Write", references=["a reference text"] * 16), "expect": "ok"},
        {"name": "options of the wrong shape", "input": doc("opts", text="t", options={"custom_thresholds": "high"}), "expect": "options_invalid"},
        {"name": "unknown domain", "input": doc("domain", text="Some text.", domain="x" * 300), "expect": "ok"},
    ] + envelope_cases("doc_id", doc("valid", text="A short human note about the weather today."), "text_missing")


def thumbnail_cases() -> list:
    def post(video_id: str, **fields) -> dict:
        return {"video_id": video_id, **fields}

    def media(name: str) -> dict:
        return {f"s3://media/{name}": {"file": f"media/{name}"}}

    cases = [
        {"name": "stsz declares 4 billion samples", "input": post("stsz", video_s3_uri="s3://media/stsz-billions.mp4"),
         "objects": media("stsz-billions.mp4"), "expect": "corrupt_media"},
        {"name": "zero-size stsz, 4 billion samples", "input": post("stsz0", video_s3_uri="s3://media/stsz-zero-size-billions.mp4"),
         "objects": media("stsz-zero-size-billions.mp4"), "expect": "too_many_samples"},
        {"name": "trun declares 4 billion samples", "input": post("trun", video_s3_uri="s3://media/trun-billions.mp4"),
         "objects": media("trun-billions.mp4"), "expect": "too_many_samples"},
        {"name": "truncated moov", "input": post("cut", video_s3_uri="s3://media/truncated-moov.mp4"),
         "objects": media("truncated-moov.mp4"), "expect": "corrupt_media"},
        {"name": "box claims 4 GB", "input": post("box", video_s3_uri="s3://media/box-size-lies.mp4"),
         "objects": media("box-size-lies.mp4"), "expect": "corrupt_media"},
        {"name": "not media as video", "input": post("junk", video_s3_uri="s3://media/not-media.bin"),
         "objects": media("not-media.bin"), "expect": "not_a_video"},
        {"name": "not media as image", "input": post("junkimg", image_s3_uris=["s3://media/not-media.bin"]),
         "objects": media("not-media.bin"), "expect": "unsupported_image"},
        {"name": "1x600 PNG", "input": post("tall", image_s3_uris=["s3://media/strip-1x600.png"]),
         "objects": media("strip-1x600.png"), "expect": "ok"},
        {"name": "600x1 PNG", "input": post("wide", image_s3_uris=["s3://media/strip-600x1.png"]),
         "objects": media("strip-600x1.png"), "expect": "ok"},
        {"name": "PNG header claims 100000x100000", "input": post("claims", image_s3_uris=["s3://media/claims-100k-square.png"]),
         "objects": media("claims-100k-square.png"), "expect": "resolution_too_large"},
        {"name": "AV1 clip", "input": post("av1", video_s3_uri="s3://media/cup-av1.mp4"),
         "objects": {"s3://media/cup-av1.mp4": {"file": "../videos/cup-av1.mp4"}}, "expect": "unsupported_codec"},
        {"name": "HEVC clip", "input": post("hevc", video_s3_uri="s3://media/cup-hevc.mp4"),
         "objects": {"s3://media/cup-hevc.mp4": {"file": "../videos/cup-hevc.mp4"}}, "expect": "ok"},
        {"name": "145 KB HEIC claims 48 Mpx", "input": post("heicbomb", image_s3_uris=["s3://media/heic-claims-48mpx.heic"]),
         "objects": media("heic-claims-48mpx.heic"), "expect": "decompression_bomb"},
        {"name": "48 Mpx HEIC grid, reduced tile by tile", "input": post("heic48", image_s3_uris=["s3://media/phone-48mpx-grid.heic"]),
         "objects": {"s3://media/phone-48mpx-grid.heic": {"file": "../images/phone-48mpx-grid.heic"}}, "expect": "ok"},
        {"name": "truncated clip", "input": post("trunc", video_s3_uri="s3://media/cup-truncated.mp4"),
         "objects": {"s3://media/cup-truncated.mp4": {"file": "../videos/cup-truncated.mp4"}}, "expect": "corrupt_media"},
        {"name": "video over the media cap", "input": post("huge", video_s3_uri="s3://media/huge.mp4"),
         "objects": {"s3://media/huge.mp4": {"repeat": "\u0000", "times": 70 * 1024 * 1024}}, "expect": "media_too_large"},
        {"name": "ten images over the post's budget together",
         "input": post("many", image_s3_uris=[f"s3://media/big-{i}.jpg" for i in range(10)]),
         "objects": {f"s3://media/big-{i}.jpg": {"repeat": "\u0000", "times": 8 * 1024 * 1024} for i in range(10)},
         "expect": "media_too_large"},
        {"name": "bucket off the list", "input": post("foreign", video_s3_uri="s3://elsewhere/a.mp4"), "expect": "bucket_not_allowed"},
        {"name": "no media", "input": post("nomedia"), "expect": "media_missing"},
        {"name": "local path refused", "input": post("local", video_path="/etc/passwd"), "expect": "local_path_not_allowed"},
    ]
    valid = post("valid", image_s3_uris=["s3://media/coffee.jpg"])
    coffee = {"s3://media/coffee.jpg": {"file": "../images/coffee.jpg"}}
    # Phone media (issue 33): bombs a phone photo's size could hide, and what phones make.
    phone = [
        {"name": "70 KB JPEG claims 48 Mpx", "input": post("bomb48", image_s3_uris=["s3://media/jpeg-claims-48mpx.jpg"]),
         "objects": media("jpeg-claims-48mpx.jpg"), "expect": "decompression_bomb"},
        {"name": "16k x 16k PNG of zeros", "input": post("png16k", image_s3_uris=["s3://media/png-16k-square.png"]),
         "objects": media("png-16k-square.png"), "expect": "resolution_too_large"},
        {"name": "4K portrait clip as phones record it", "input": post("uhd", video_s3_uri="s3://media/cup-4k-portrait.mp4"),
         "objects": {"s3://media/cup-4k-portrait.mp4": {"file": "../videos/cup-4k-portrait.mp4"}}, "expect": "ok"},
        {"name": "48 Mpx phone photo", "input": post("photo48", image_s3_uris=["s3://media/photo-48mpx.jpg"]),
         "objects": media("photo-48mpx.jpg"), "expect": "ok"},
    ]
    return cases + envelope_cases("video_id", valid, "media_missing", coffee) + phone


def main() -> None:
    tagger_post = {"video_id": "valid", "caption": "Red linen dress, sizes S-XL, ₦15,000", "market": "NG"}
    corpora = {
        "caption-parser": caption_cases() + envelope_cases("video_id", tagger_post, "ok"),
        "auto-tagger": caption_cases() + envelope_cases("video_id", tagger_post, "ok"),
        "language-detector": caption_cases() + envelope_cases("video_id", tagger_post, "ok"),
        "text-scorer": text_cases(),
        "thumbnail-generator": thumbnail_cases(),
    }
    for worker, cases in corpora.items():
        path = OUT / f"{worker}.jsonl"
        with path.open("w") as f:
            for case in cases:
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
        print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
