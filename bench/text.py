"""Chinese text for generated reports: sentences from the source documents (bench/corpus.txt,
built from /work/shared/seeds by `python -m bench.text SEEDS_DIR`) mixed with templates."""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus.txt")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def sentences() -> tuple[str, ...]:
    return tuple(line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip())


def build(seeds_dir: str) -> int:
    """Split the source documents into clean sentences of 20–140 characters."""
    found: list[str] = []
    seen = set()
    for path in sorted(Path(seeds_dir).glob("*.txt")):
        if path.name.startswith("002_"):  # traditional characters with conversion noise
            continue
        text = path.read_text(encoding="utf-8", errors="ignore").replace("\u3000", "")
        text = re.sub(r"\[bookmark:[^\]]*\]", "", text)
        for part in re.split(r"(?<=[。；！？])", text.replace("\n", "")):
            part = part.strip().lstrip("；，、 ")
            part = re.sub(r"^[一二三四五六七八九十]+是", "", part)
            if not (20 <= len(part) <= 140) or part in seen:
                continue
            if len(_CJK.findall(part)) < 0.7 * len(part) or re.match(r"^[（(一二三四五六七八九十\d]", part):
                continue
            seen.add(part)
            found.append(part.rstrip("；") + ("。" if part.endswith("；") else ""))
    CORPUS.write_text("\n".join(found) + "\n", encoding="utf-8")
    return len(found)


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/seeds"), "sentences")
