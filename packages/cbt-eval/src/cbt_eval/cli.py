def main() -> None:
    raise SystemExit("cbt-eval: not implemented yet")
