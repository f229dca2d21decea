"""Small stories of our own for the conversation tests: each answers a bare follow-up
("How much do they earn?", "Which companies?") about something else than the seeds, so a
follow-up read without its thread's context is answered from them instead."""

from __future__ import annotations

from datetime import date

# After every story here and the seeds ran.
ASKED_ON = date(2026, 12, 1)

NURSES = """---
title: Travel Nurses' Pay Climbs Again
source: Health Jobs Weekly
published: 2026-11-20
url: https://example.com/travel-nurses-pay
---
Travel nurses now earn about $62 an hour on average, staffing agencies say, up from $48 two \
years ago.

Hospitals in rural areas pay the most, and some contracts add housing on top of the hourly rate.

Agencies say they cannot fill shifts fast enough, and nursing schools have waitlists for the \
first time in a decade.
"""

ROBOT_MAKERS = """---
title: Warehouse Robot Makers Raise Prices as Orders Pile Up
source: Supply Chain Daily
published: 2026-11-18
url: https://example.com/warehouse-robots
---
Warehouse robot makers say demand for picking arms has doubled since spring.

The companies named in the survey were Symbotic, Locus Robotics and Geek+, which together \
shipped more than 40,000 robots this year.

Buyers report waits of up to nine months for new fleets, and several retailers have started \
leasing robots instead of buying them.
"""

EU_AI_ACT = """---
title: EU AI Act Rules for General-Purpose Models Take Effect
source: Brussels Brief
published: 2026-11-25
url: https://example.com/eu-ai-act
---
The EU AI Act required providers of general-purpose AI models to publish a summary of the \
data used to train them and to keep technical documentation for regulators.

Companies that break the rules face fines of up to 3% of their global yearly turnover, the \
European Commission said.

Several model makers have signed the commission's voluntary code of practice, while others \
said they would comply without signing it.
"""

NVIDIA = """---
title: Nvidia Sells AI Chips to a Saudi Data Center Builder
source: Chip Wire
published: 2026-11-22
url: https://example.com/nvidia-saudi
---
Nvidia sold 18,000 of its newest AI chips to Humain, a Saudi data center builder, the chipmaker \
said on Monday.

The chips will power a data center in Riyadh that Humain expects to open next year.
"""

STORIES = {
    "travel-nurses.md": NURSES,
    "warehouse-robots.md": ROBOT_MAKERS,
    "eu-ai-act.md": EU_AI_ACT,
    "nvidia-saudi.md": NVIDIA,
}
