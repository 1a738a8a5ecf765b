def main() -> None:
    raise SystemExit("cbt-train: not implemented yet")
