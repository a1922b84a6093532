"""WeChat's callback envelope: query signatures, the AES layer of compatible/safe mode, reply XML.

Everything here runs before a message is trusted, so it refuses early and cheaply: the query signature
is checked before the body is looked at, and a body declaring a DOCTYPE or ENTITY is never parsed.
"""
from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping

import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.fields import StringField
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bot.settings import WeChatSettings

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_NONCE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")    # it is echoed into the encrypted reply's XML
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_OTHER_ENCODING = re.compile(r"<\?xml[^>]*encoding\s*=\s*[\"'](?!utf-?8[\"'])", re.IGNORECASE)
# Characters XML 1.0 forbids; one in an answer would make WeChat drop the whole reply.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Rejected(Exception):
    """The request is refused with `status` (403: not from WeChat, 400: malformed)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status = status


def signature(*parts: str) -> str:
    """WeChat's SHA1 over the sorted, concatenated parts (token, timestamp, nonce[, Encrypt])."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _signed(expected: str | None, *parts: str) -> bool:
    return bool(expected) and hmac.compare_digest(signature(*parts).encode(), expected.encode())


class Envelope:
    def __init__(self, settings: WeChatSettings):
        self._token = settings.token
        self._crypto = (WeChatCrypto(settings.token, settings.aes_key, settings.appid)
                        if settings.aes_key else None)

    @property
    def encrypted(self) -> bool:
        return self._crypto is not None

    def check_query(self, query: Mapping[str, str]) -> None:
        """The `signature` WeChat puts on every callback, in every mode: 403 unless it holds."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not (_TIMESTAMP.fullmatch(timestamp) and _NONCE.fullmatch(nonce)):
            raise Rejected(403, "timestamp or nonce missing or malformed")
        if not _signed(query.get("signature"), self._token, timestamp, nonce):
            raise Rejected(403, "bad signature")

    def open(self, query: Mapping[str, str], body: bytes) -> tuple[str, dict]:
        """(message XML, its fields) from a body whose query has passed `check_query`."""
        outer = _parse(body)
        if not self._crypto:
            try:
                return body.decode("utf-8"), outer
            except UnicodeDecodeError:
                raise Rejected(400, "the body is not UTF-8") from None
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise Rejected(400, "compatible/safe mode: the body has no <Encrypt>")
        if not _signed(query.get("msg_signature"), self._token, query["timestamp"], query["nonce"], encrypt):
            raise Rejected(403, "bad msg_signature")
        return self._decrypt(encrypt)

    def _decrypt(self, encrypt: str) -> tuple[str, dict]:
        # the signature is already checked (in constant time); wechatpy's PrpCrypto only decrypts
        try:
            inner = PrpCrypto(self._crypto.key).decrypt(encrypt, self._crypto.app_id)
        except InvalidAppIdException:
            raise Rejected(403, "message encrypted for another appid") from None
        except Exception:  # noqa: BLE001  bad base64, padding or length: wechatpy raises whatever it hit
            raise Rejected(400, "Encrypt does not decrypt") from None
        return inner, _parse(inner.encode("utf-8"))

    def seal(self, xml: str, nonce: str) -> str:
        """The reply body: as is in plaintext mode, else encrypted and signed as WeChat expects."""
        if not self._crypto:
            return xml
        return self._crypto.encrypt_message(xml, nonce, str(int(time.time())))


def _parse(body: bytes) -> dict:
    """The <xml> root as a dict; 400 for a declaration, malformed XML or another root.

    WeChat sends UTF-8. Anything else (UTF-16, UTF-32: NUL bytes, or not UTF-8 at all) is refused
    before the DOCTYPE guard looks, since that guard reads UTF-8; expat then gets a str, whose
    encoding it cannot be talked out of by an encoding="..." declaration."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "the body is not UTF-8") from None
    if "\x00" in text or _OTHER_ENCODING.search(text):
        raise Rejected(400, "the body is not UTF-8")
    if _DECLARATION.search(body):
        raise Rejected(400, "DOCTYPE/ENTITY declarations are not accepted")
    try:
        root = xmltodict.parse(text.removeprefix("\ufeff"), disable_entities=True)
    except Exception:  # noqa: BLE001  expat errors, bad encodings, entity use: all mean "malformed"
        raise Rejected(400, "malformed XML") from None
    if not isinstance(root, dict) or not isinstance(root.get("xml"), dict):
        raise Rejected(400, "the body is not a WeChat <xml> message")
    return root["xml"]


class _CData(StringField):
    """wechatpy writes CDATA without escaping "]]>": split it across two sections, as XML allows."""

    def to_xml(self, value) -> str:
        text = _NOT_XML.sub("", str(value or ""))
        return super().to_xml(text.replace("]]>", "]]]]><![CDATA[>"))


class SafeTextReply(TextReply):
    source = _CData("FromUserName")
    target = _CData("ToUserName")
    content = _CData("Content")


def text_reply(account: str, user: str, text: str) -> str:
    """The passive reply XML for `text`, from the official account `account` to `user`."""
    return SafeTextReply(source=account, target=user, content=text, time=int(time.time())).render()
