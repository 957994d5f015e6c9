"""Follow-up of referrals: two weeks after a programme was suggested or chosen, Bousla asks
the person whether they contacted it and how it went, and stores the answer.

- `store`: what is due, claims safe with several replicas, answers (the database);
- `answers`: reading a typed answer ("mazal", "j'attends leur appel", "ما عيطتش");
- `scheduler`: the Rasa server's periodic task that asks (through Rasa and the outbox);
- `policy`: the Rasa policy that reads the next message as the answer.
The conversation side is in `bot/actions/followup.py`, the replies in domain.yml.
"""
