# Words printed on the PDF documents. English is the reference: every id here must exist in every other
# language (a test checks). Keep each message on one line: Fluent keeps line breaks, the layout wraps.

## Shared blocks

issued-electronically = Issued electronically
issued-by = Issued by { $name }
issued-by-iata = Issued by { $name } (IATA { $iata })
office-id = Office ID
iata = IATA
status-line = Status: { $mark }
page-of = Page { $page } of { $total }
important-information = Important information
base-fare = Base fare
taxes-fees-charges = Taxes, fees and charges
total = Total
form-of-payment-label = FORM OF PAYMENT
currency-label = CURRENCY
passenger = Passenger
date-of-issue = Date of issue
booking-reference = Booking reference (PNR)
booking-code = Booking code
order = Order
ticket-changed-status = This ticket has changed status since it was issued.

## Flight e-ticket

eticket-title = Electronic Ticket — Itinerary Receipt
eticket-subtitle = Please carry this receipt, or have it available on your phone, together with your travel documents.
eticket-footer = Ticket { $ticket }   ·   Booking { $pnr }
eticket-continued = Electronic Ticket (continued)
eticket-metadata-title = E-ticket { $ticket } — { $passenger }
itinerary-metadata-title = Itinerary { $pnr } — { $count } passenger(s)
passenger-type = Passenger type
ticket-status = Ticket status
ticket-number = Ticket number
validating-carrier = Validating carrier
section-itinerary = Itinerary
section-gate-codes = Gate codes
gate-code-label = { $flight } · coupon { $number }
gate-codes-note = Each code admits its holder to its flight once. Gates check it with our public keys, offline too.
section-fare-details = Fare details
section-services = Additional services (EMD)
section-endorsements = Endorsements / restrictions
notice-conditions-title = Conditions of contract
notice-conditions = Carriage and other services provided by the carrier are subject to the conditions of carriage, which are hereby incorporated by reference. These conditions may be obtained from the issuing carrier or your travel agent. Passengers on a journey involving an ultimate destination or a stop in a country other than the country of departure are advised that international treaties such as the Montreal Convention may govern and may limit the liability of carriers for death or personal injury, and for loss of or damage to baggage.
notice-baggage-title = Baggage
notice-baggage = Allowances shown per segment are those of the operating carrier at the time of issue. Excess, oversized and special items may be charged. Lithium batteries, e-cigarettes and other dangerous goods are restricted; spare batteries and power banks must be carried in the cabin, never in checked baggage. Keep valuables, medicines and travel documents with you.
notice-checkin-title = Check-in and travel documents
notice-checkin = Check in online or at the airport within the carrier's deadlines, usually 60 minutes before departure for international flights, and be at the boarding gate at the time shown on your boarding pass. You are responsible for holding a valid passport, visas and any health documents required for every country on your journey. Coupons must be used in sequence; an unused segment may cause later segments to be cancelled.
pax-adult = Adult
pax-child = Child
pax-infant = Infant
pax-infant-seat = Infant with seat
pax-youth = Youth
pax-senior = Senior
coupon-open = Open for use
coupon-airport = Airport control
coupon-checked-in = Checked in
coupon-lifted = Lifted / boarded
coupon-flown = Flown
coupon-void = Void
coupon-refunded = Refunded
coupon-exchanged = Exchanged
coupon-suspended = Suspended
coupon-printed = Printed
coupon-unavailable = Unavailable
coupon-cancelled = Cancelled
connection = Connection
coupon-number = Coupon { $number }
departure-label = DEPARTURE
arrival-label = ARRIVAL
terminal = Terminal { $terminal }
class-label = CLASS
fare-basis-label = FARE BASIS
baggage-label = BAGGAGE
coupon-status-label = COUPON STATUS
airline-ref-label = AIRLINE REF
document-number-label = DOCUMENT NUMBER
service-label = SERVICE
amount-label = AMOUNT

## EMD receipt

emd-title = Electronic Miscellaneous Document — Receipt
emd-subtitle = Receipt for a paid service. Keep it with your electronic ticket.
emd-footer = EMD { $document }   ·   Booking { $pnr }
emd-continued = EMD Receipt (continued)
emd-metadata-title = EMD { $document } — { $passenger }
emd-changed-status = This document has changed status since it was issued.
document-number = Document number
related-ticket = Related ticket
service-type = Service type
service-code = Service code
section-service = Service
section-payment = Payment
notice-emd-title = About this document
notice-emd = This receipt confirms payment for the service described above. The EMD is valid only for the passenger named and, where a related ticket is shown, only together with that ticket. The service is provided by the carrier under its conditions of carriage and the rules applicable to this service.
notice-emd-changes-title = Changes and refunds
notice-emd-changes = Unused services may be refundable or exchangeable according to the carrier's rules; fees may apply. Please contact your travel agent quoting the document number and booking reference.

## Event ticket

event-title = Event Ticket
event-subtitle = Show this ticket at the entrance, printed or on your phone.
event-footer = Ticket { $item }
event-continued = Event Ticket (continued)
event-metadata-title = Event ticket { $item }
event-metadata-title-holder = Event ticket { $item } — { $holder }
ticket = Ticket
price = Price
order-item = Order item
event-label = EVENT
starts-label = STARTS
ends-label = ENDS
holder-label = TICKET HOLDER
no-entry-code = No entry code
section-label = SECTION
row-label = ROW
seat-label = SEAT
notice-entry-title = Entry
notice-entry = Have this ticket ready at the entrance, printed or on your phone; you may be asked for photo identification. The QR code admits once: the first scan counts, so do not share or post pictures of this ticket. Arrive in good time, as security checks can take a while.
notice-your-ticket-title = Your ticket
notice-your-ticket = This ticket is valid only for the event, date and place shown, and for the seat or area printed on it. The organiser's terms and the venue's house rules apply; resale may be restricted or forbidden by the organiser.
notice-event-changes-title = Changes and cancellations
notice-event-changes = If the event is cancelled, postponed or moved, you will be informed by the organiser or your travel agent. Please quote the booking code and the order item number shown above in every enquiry.

## Invoice

invoice-title = Invoice
invoice-continued = { $title } (continued)
your-reference = Your reference
event = Event
credits-invoice = Credits invoice { $number }
invoice-number-label = INVOICE NUMBER
date-of-issue-label = DATE OF ISSUE
seller-label = SELLER
buyer-label = BUYER
description-label = DESCRIPTION
qty-label = QTY
unit-price-label = UNIT PRICE
vat-rate-label = VAT RATE
net-label = NET
vat-label = VAT
gross-label = GROSS
invoice-lines = Invoice lines
invoice-lines-currency = Invoice lines · amounts in { $currency }
no-lines = No lines
net-total = Net total
vat = VAT
