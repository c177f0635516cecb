# The e-mail that sends a booking's tickets.

mail-what = booking { $code }
mail-subject = Your e-tickets — { $what }
mail-hello = Hello,
mail-attached = attached are your e-tickets for { $what }: { $items }.
mail-attached-html = attached are your e-tickets for { $what }:
mail-carry = Please carry them, with your travel documents, when you travel.
mail-reference = Ticket reference: { $reference }
