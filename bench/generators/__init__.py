"""Generator plug-ins: each module adds `<module>.py` with ORDER and `generate(ctx, conn, scale)`.
Foundation 0, performance 100, reports 150; workflow modules (letters, co-review, ledger,
publication) use 200+ and read ctx.ids / ctx.data published by earlier plug-ins."""
