"""A small story of our own that tests of libraries add to one server and ask about from another."""

LUMEN = """---
title: Lumenwave opens a robotics lab in Lisbon
source: Harbor Ledger
published: 2026-10-01
---
Lumenwave, the Portuguese AI company, opened a robotics lab in Lisbon on Tuesday. The lab
employs 140 engineers who build warehouse robots, the company said. Lumenwave plans to double
the lab's staff by 2028.
"""
QUESTION = "How many engineers does the Lumenwave robotics lab employ?"
# A second server's story (and an alias: "the satellite startup" is Orbitline).
ORBIT = """---
title: Orbitline trains a weather model
source: Harbor Ledger
---
Orbitline, a satellite startup, trained a weather forecasting model on twelve years of radar
images. The model predicts hail two hours ahead, the startup said on Monday.
"""
