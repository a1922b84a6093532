"""The simulator signs and encrypts exactly as WeChat does: checked against WeChat's published samples.

The vectors are from the sample code WeChat publishes with its message-encryption documentation
(WXBizMsgCryptTest.java for the official account; the URL-verification sample; Sample.py).
"""
from __future__ import annotations

import pytest

from .wechat_sim import WeChatCrypt, from_xml, sign

# Official-account sample (WXBizMsgCryptTest.java): fixed random prefix, so the ciphertext is known.
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE = WeChatCrypt("pamtest", SAMPLE_KEY, "wxb11529c136998cb6")
SAMPLE_RANDOM = b"aaaabbbbccccdddd"
SAMPLE_TIMESTAMP, SAMPLE_NONCE = "1409304348", "xxxxxx"
REPLY_1 = "我是中文abcd123"
CIPHER_1 = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
REPLY_2 = ("<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName>"
           "<![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType>"
           "<![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2"
           "Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description>"
           "<![CDATA[testCallBackReplyVideo]]></Description></Video></xml>")
CIPHER_2 = (
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+w"
    "LMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9e"
    "nGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLK"
    "J38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xk"
    "a042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f"
    "8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb")

# URL-verification sample: a published msg_signature over token, timestamp, nonce and the encrypted echostr.
VERIFY = WeChatCrypt("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
VERIFY_SIG, VERIFY_TS, VERIFY_NONCE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780"
VERIFY_ECHO = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="

# Sample.py: a safe-mode callback as WeChat posts it, with its published msg_signature.
PY = WeChatCrypt("spamtest", SAMPLE_KEY, "wx2c2769f8efd9abc2")
PY_SIG, PY_TS, PY_NONCE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132"
PY_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9F"
    "rXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt"
    "+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h"
    "0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=")


@pytest.mark.parametrize("message, cipher", [(REPLY_1, CIPHER_1), (REPLY_2, CIPHER_2)])
def test_encryption_matches_wechats_published_ciphertext(message, cipher):
    assert SAMPLE.encrypt(message, SAMPLE_RANDOM) == cipher
    assert SAMPLE.decrypt(cipher) == (message, "wxb11529c136998cb6")


def test_signature_matches_wechats_published_url_verification():
    assert VERIFY.signature(VERIFY_TS, VERIFY_NONCE, VERIFY_ECHO) == VERIFY_SIG
    assert VERIFY.decrypt(VERIFY_ECHO) == ("1616140317555161061", "wx5823bf96d3bd56c7")


def test_published_safe_mode_callback_verifies_and_decrypts():
    assert PY.signature(PY_TS, PY_NONCE, PY_ENCRYPT) == PY_SIG
    message, appid = PY.decrypt(PY_ENCRYPT)
    assert appid == "wx2c2769f8efd9abc2"
    assert from_xml(message) == {"ToUserName": "gh_10f6c3c3ac5a", "FromUserName": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
                                 "CreateTime": "1409735668", "MsgType": "text", "Content": "abcdteT",
                                 "MsgId": "6054768590064713728"}


def test_plain_signature_sorts_before_hashing():
    assert sign("pamtest", SAMPLE_TIMESTAMP, SAMPLE_NONCE) == sign(SAMPLE_NONCE, "pamtest", SAMPLE_TIMESTAMP)


def test_padding_fills_whole_32_byte_blocks():
    import base64
    for size in range(70):
        assert len(base64.b64decode(SAMPLE.encrypt("x" * size))) % 32 == 0
