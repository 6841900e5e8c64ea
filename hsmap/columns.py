"""Find the code and description columns of a declaration file by the names customs systems use."""

from __future__ import annotations

import re

from hsmap.errors import InputError

CODE_NAMES = (
    "hs_code",
    "hscode",
    "hs",
    "hs6",
    "hs8",
    "hs10",
    "commodity_code",
    "commodity",
    "cmd_code",
    "cmdcode",
    "tariff_code",
    "tariff_line",
    "tariff",
    "cn8",
    "cn_code",
    "cn",
    "nc8",
    "taric",
    "hts",
    "hts10",
    "htsus",
    "ncm",
    "product_code",
    "goods_code",
    "code",
    "code_sh",
    "codigo",
    "partida",
    "tnved",
    "hs_code_declared",
)
TEXT_NAMES = (
    "description",
    "goods_description",
    "item_description",
    "commodity_description",
    "product_description",
    "description_of_goods",
    "goods",
    "desc",
    "designation",
    "designation_des_marchandises",
    "libelle",
    "descripcion",
    "descripcion_mercancia",
    "mercancia",
    "descricao",
    "warenbezeichnung",
    "text",
    "cmd_desc",
    "cmddesc",
    "item",
    "product",
)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def find_column(names: list[str], wanted: str | None, known: tuple[str, ...], what: str, file: str) -> str | None:
    """The column given by the user (must exist) or the first column whose name customs systems use."""
    if wanted is not None:
        if wanted in names:
            return wanted
        matches = [name for name in names if _key(name) == _key(wanted)]
        if matches:
            return matches[0]
        raise InputError(file, 1, wanted, f"no such {what} column (columns: {', '.join(names)})")
    by_key = {_key(name): name for name in names}
    return next((by_key[key] for key in known if key in by_key), None)


def detect_columns(
    names: list[str],
    file: str,
    code: str | None = None,
    text: str | None = None,
    how: tuple[str, str] = ("--code-column", "--text-column"),
) -> tuple[str | None, str | None]:
    """The (code, text) columns of a declaration table; at least one of them must be found. ``how`` names the
    caller's way of naming them (the command's options; the Python API's arguments), for the message."""
    code_column = find_column(names, code, CODE_NAMES, "code", file)
    text_column = find_column(names, text, TEXT_NAMES, "description", file)
    if code_column is None and text_column is None:
        raise InputError(
            file,
            1,
            None,
            f"found neither a code column nor a description column among {', '.join(names) or 'no columns'}; "
            f"name them with {how[0]}/{how[1]}",
        )
    return code_column, text_column
