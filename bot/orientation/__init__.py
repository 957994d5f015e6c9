"""Orientation: reading a young person's profile answers, the places Bousla knows, and
which programmes of the catalogue fit them, and why.

- `profile_answers`: the answers to the profile questions ("3andi 22 3am", "5 melyoun");
- `geography`: communes, prefectures and regions (`geography.yml`), found in free text;
- `matching`: the programmes that fit a profile, with reasons (`matching_phrases.yml`).
"""
