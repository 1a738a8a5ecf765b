def main() -> None:
    raise SystemExit("cbt-infer: not implemented yet")
