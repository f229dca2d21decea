"""Small stories of our own for the answer-precision tests: each has a near miss in wording."""

from __future__ import annotations

from datetime import date

# Our stories are asked about a few days after they ran; the seeds as the issue reported them
# (`newsbot ask` in December 2026: the dated seed is then months old, the other undated).
ASKED_ON = date(2026, 7, 1)
SEEDS_ASKED_ON = date(2026, 12, 1)

OPENAI_ROUND = """---
title: OpenAI Closes a $40 Billion Funding Round Led by SoftBank
source: The Ledger
published: 2026-06-20
url: https://example.com/openai-round
---
OpenAI raised $40 billion in a funding round led by SoftBank, valuing the ChatGPT maker at $300 \
billion, the company said on Friday.

The round is the largest private fundraising by a technology company, and OpenAI said the money \
will pay for computing power and research.

SoftBank will invest $30 billion of the total, with the rest coming from Microsoft, Coatue and \
other investors, according to people familiar with the deal.
"""

META_SCALE = """---
title: Meta Takes a 49% Stake in Scale AI
source: Tech Desk
published: 2026-06-25
url: https://example.com/meta-scale
---
Facebook parent Meta is making its biggest bet yet on the data behind artificial intelligence.

Meta agreed to pay $14.3 billion for a 49% stake in Scale AI, the companies said on Thursday.

Scale AI, a data-labeling startup founded in 2016, raised $1 billion from investors last year \
and counts OpenAI and Google among its customers.

Scale AI's chief executive will join Meta to work on its superintelligence effort, while the \
startup stays independent.
"""

H20_BAN = """---
title: US Bars Nvidia From Selling H20 Chips to China
source: Chip Wire
published: 2026-06-28
url: https://example.com/nvidia-h20
---
The U.S. government has banned exports of Nvidia's H20 AI chips to China, the company said, \
closing off the last advanced processor it was allowed to sell there.

Nvidia said the export ban on the H20 would cost it $5.5 billion in charges this quarter.

The H20 was designed to comply with earlier export rules, and Chinese firms such as Tencent and \
Alibaba had ordered it in large numbers.
"""

# A near miss for the chip question: chips and China, but phones, not exports.
PHONE_SALES = """---
title: Smartphone Sales in China Slow Again
source: Market Notes
published: 2026-06-27
url: https://example.com/china-phones
---
Smartphone sales in China fell 3% in the second quarter, as shoppers held back on new devices.

Apple and Xiaomi both lost share to Huawei, whose phones use chips made in China.
"""

# "When" answered by a time relative to the story's day; the near misses name days and times.
ROCKET_DELAY = """---
title: Moon Rocket Launch Scrubbed After a Fuel Leak
source: Space Desk
published: 2026-06-27
url: https://example.com/moon-rocket
---
NASA called off the launch of its new moon rocket on Saturday after engineers found a hydrogen \
leak while fueling it.

Launch controllers had counted down for six hours on Saturday morning before stopping the attempt.

Thousands of spectators had gathered on nearby beaches to watch the launch.

The agency said the rocket will not make another launch attempt for at least a few weeks, while \
crews replace a seal.
"""

# "Why" answered by the cause; the lead restates what happened in the question's words.
FIREWORKS = """---
title: Western Cities Cancel Fourth of July Fireworks
source: Metro Wire
published: 2026-06-29
url: https://example.com/fireworks
---
Several cities across the western US have cancelled their Fourth of July fireworks displays \
this year.

The displays usually draw thousands of families to parks and riverbanks on the holiday.

Denver, Boise and Salt Lake City will hold drone shows on the Fourth instead, organizers said.

As severe drought grips the region, officials fear that a stray spark could start a wildfire.
"""

STORIES = {
    "openai-round.md": OPENAI_ROUND,
    "meta-scale.md": META_SCALE,
    "nvidia-h20.md": H20_BAN,
    "china-phones.md": PHONE_SALES,
    "moon-rocket.md": ROCKET_DELAY,
    "fireworks.md": FIREWORKS,
}
