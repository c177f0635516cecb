# Run inside `python -m pretix shell`: creates organizer `bench`, event `bench` (live, EUR), one admission item at
# 189.00 with a quota of 10,000,000, and a team API token with every permission. Prints "TOKEN ITEM_ID" last.
from datetime import timedelta
from decimal import Decimal

from django.utils.timezone import now
from django_scopes import scopes_disabled

from pretix.base.models import Event, Item, Organizer, Quota, Team

with scopes_disabled():
    organizer, _ = Organizer.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    event, created = Event.objects.get_or_create(
        organizer=organizer,
        slug="bench",
        defaults={
            "name": "Bench Event",
            "currency": "EUR",
            "date_from": now() + timedelta(days=300),
            "live": True,
        },
    )
    item = event.items.filter(name="Ticket").first() or Item.objects.create(
        event=event, name="Ticket", default_price=Decimal("189.00"), admission=True, active=True
    )
    quota = event.quotas.filter(name="Bench quota").first() or Quota.objects.create(
        event=event, name="Bench quota", size=10_000_000
    )
    quota.items.add(item)
    team, _ = Team.objects.get_or_create(
        organizer=organizer,
        name="Bench API",
        defaults={"all_events": True, "all_event_permissions": True, "all_organizer_permissions": True},
    )
    token = team.tokens.create(name="bench")
    print(token.token, item.pk)
