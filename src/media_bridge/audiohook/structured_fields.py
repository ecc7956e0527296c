"""The slice of RFC 8941 (Structured Field Values) that RFC 9421 signatures need.

Parses a Dictionary whose members are Items or Inner Lists, and serialises an Inner
List back, so the ``@signature-params`` line is rebuilt from the parsed value (a
strict signer produces the same text; a sloppy one fails verification).

Hand-written rather than ``http_sfv`` (only a test dependency here: the differential
test reads 20,000 mutated headers with both): a verifier must refuse what RFC 8941
requires failing, and ``http_sfv`` accepts a Decimal with no digit after the point;
the slice signatures need is small, so no runtime dependency is added for it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    value: str


BareItem = int | float | str | bytes | bool | Token


@dataclass
class Item:
    value: BareItem
    params: list[tuple[str, BareItem]] = field(default_factory=list)


@dataclass
class InnerList:
    items: list[Item]
    params: list[tuple[str, BareItem]] = field(default_factory=list)


class StructuredFieldError(ValueError):
    pass


_KEY = re.compile(r"[a-z*][a-z0-9_.*-]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*")
_INT = re.compile(r"-?[0-9]{1,15}")
_DECIMAL = re.compile(r"-?[0-9]{1,12}\.[0-9]{1,3}")
_NUMBER = re.compile(r"-?[0-9.]+")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def _peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def _skip_sp(self) -> None:
        while self._peek() == " ":
            self.i += 1

    def _skip_ows(self) -> None:
        while self._peek() in (" ", "\t") and self._peek():
            self.i += 1

    def key(self) -> str:
        m = _KEY.match(self.s, self.i)
        if not m:
            raise StructuredFieldError(f"bad key at {self.i}")
        self.i = m.end()
        return m.group(0)

    def bare_item(self) -> BareItem:
        c = self._peek()
        if c == '"':
            return self._string()
        if c == ":":
            m = _BYTES.match(self.s, self.i)
            if not m:
                raise StructuredFieldError("bad byte sequence")
            self.i = m.end()
            try:
                return base64.b64decode(m.group(1), validate=True)
            except ValueError as exc:
                raise StructuredFieldError("bad base64") from exc
        if c == "?":
            if self.s[self.i : self.i + 2] in ("?0", "?1"):
                self.i += 2
                return self.s[self.i - 1] == "1"
            raise StructuredFieldError("bad boolean")
        if c == "-" or c.isdigit():
            return self._number()
        m = _TOKEN.match(self.s, self.i)
        if not m:
            raise StructuredFieldError(f"bad item at {self.i}")
        self.i = m.end()
        return Token(m.group(0))

    def _number(self) -> int | float:
        """An Integer (up to 15 digits) or a Decimal (up to 12 digits, a point, 1 to 3
        digits), RFC 8941 section 4.2.4; anything longer fails."""
        whole = _NUMBER.match(self.s, self.i)
        text = whole.group(0) if whole else ""
        if _INT.fullmatch(text):
            self.i += len(text)
            return int(text)
        if _DECIMAL.fullmatch(text):
            self.i += len(text)
            return float(text)
        raise StructuredFieldError(f"bad number at {self.i}")

    def _string(self) -> str:
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                nxt = self._peek()
                if nxt not in ('"', "\\"):
                    raise StructuredFieldError("bad escape")
                out.append(nxt)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not (0x20 <= ord(c) <= 0x7E):
                raise StructuredFieldError("bad string character")
            else:
                out.append(c)
        raise StructuredFieldError("unterminated string")

    def params(self) -> list[tuple[str, BareItem]]:
        params: list[tuple[str, BareItem]] = []
        while self._peek() == ";":
            self.i += 1
            self._skip_sp()
            name = self.key()
            value: BareItem = True
            if self._peek() == "=":
                self.i += 1
                value = self.bare_item()
            params = [(k, v) for k, v in params if k != name]
            params.append((name, value))
        return params

    def item_or_inner_list(self) -> Item | InnerList:
        if self._peek() != "(":
            value = self.bare_item()
            return Item(value, self.params())
        self.i += 1
        items: list[Item] = []
        while True:
            self._skip_sp()
            if self._peek() == ")":
                self.i += 1
                return InnerList(items, self.params())
            value = self.bare_item()
            items.append(Item(value, self.params()))
            if self._peek() not in (" ", ")"):
                raise StructuredFieldError("bad inner list")

    def dictionary(self) -> dict[str, Item | InnerList]:
        result: dict[str, Item | InnerList] = {}
        self._skip_sp()
        while self.i < len(self.s):
            name = self.key()
            if self._peek() == "=":
                self.i += 1
                result[name] = self.item_or_inner_list()
            else:
                result[name] = Item(True, self.params())
            self._skip_ows()
            if self.i >= len(self.s):
                break
            if self._peek() != ",":
                raise StructuredFieldError(f"expected ',' at {self.i}")
            self.i += 1
            self._skip_ows()
            if self.i >= len(self.s):
                raise StructuredFieldError("trailing comma")
        return result


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """Parse a Dictionary field value (RFC 8941 section 4.2.2). Only leading and trailing
    spaces are discarded: a tab or a control character there fails, as the RFC says."""
    return _Parser(text.strip(" ")).dictionary()


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{round(value, 3):.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, Token):
        return value.value
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: list[tuple[str, BareItem]]) -> str:
    return "".join(f";{k}" if v is True else f";{k}={serialize_bare_item(v)}" for k, v in params)


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    body = " ".join(serialize_item(i) for i in inner.items)
    return f"({body}){serialize_params(inner.params)}"
