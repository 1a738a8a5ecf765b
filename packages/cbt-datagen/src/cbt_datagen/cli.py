def main() -> None:
    raise SystemExit("cbt-datagen: not implemented yet")
