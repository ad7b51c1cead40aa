# mechcal's texts in English: the default, and the fallback for any
# message another language lacks (a test makes sure none does).
# Placeholders ({ $name }) must keep their names in every language.

# The language's own name, for the page's language links.
language-name = English

## Dates and relative days

month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
# The month as it reads inside a date ("15 July 2024").
month-1-of = January
month-2-of = February
month-3-of = March
month-4-of = April
month-5-of = May
month-6-of = June
month-7-of = July
month-8-of = August
month-9-of = September
month-10-of = October
month-11-of = November
month-12-of = December
# $month is one of the month-N-of messages.
date = { $day } { $month } { $year }
# A month heading on the page: "July 2024".
month-heading = { $month } { $year }
# PLURAL($n) is $n's CLDR plural category in this language: zero, one,
# two, few, many or other (English has one and other; Russian and
# Belarusian one, few, many and other).
today = today
tomorrow = tomorrow
yesterday = yesterday
in-days = { PLURAL($days) ->
    [one] in { $days } day
   *[other] in { $days } days
}
days-ago = { PLURAL($days) ->
    [one] { $days } day ago
   *[other] { $days } days ago
}

## The facts of a deadline (page, feeds, mail)

due = Due
end-of-day = end of day
submit-to = Submit to
link = Link
topics = Topics
mechanisms = Mechanisms
mechanism = Mechanism
status = Status
tentative = tentative
cancelled = cancelled
country = Country

## The page

past = Past deadlines
no-upcoming = No upcoming deadlines.
subscribe = Subscribe to this calendar
subscribe-button = Subscribe (webcal)
copy-url = Or copy this address into your calendar:
howto-google = Google Calendar: Other calendars → + → From URL, paste the address. Google refreshes subscribed calendars only every 12–24 hours and ignores their alarms; e-mail reminders are more reliable.
howto-apple = Apple Calendar (Mac, iPhone): click “Subscribe”, or File → New Calendar Subscription and paste the address.
howto-outlook = Outlook: Add calendar → Subscribe from web, paste the address.
add-to-calendar = Add to calendar (.ics)
back = All deadlines
filter-all = all
other-formats = Other formats

## Reminder mail

# Subject lines: "[mechcal] CERD — Report due in 7 days (15 July 2024)".
# $when is in-days/today/tomorrow.
mail-subject-due = due { $when }
mail-subject-moved = deadline moved
mail-subject-cancelled = cancelled
# $first is the first deadline's line, $more how many others follow.
mail-subject-more = { $first } and { $more } more
# One deadline's heading; $kind is remind, moved or cancelled.
mail-heading = { $kind ->
    [moved] MOVED: { $what }
    [cancelled] CANCELLED: { $what }
   *[other] { $what }
}
mail-was = Was
mail-greeting = Hello { $name },
mail-intro = Deadlines you follow:
mail-greeting-inline = Hello { $name }, deadlines you follow:
mail-attachment = The attached calendar file adds these deadlines to your calendar.
mail-stop = To stop these reminders:
mail-unsubscribe = Unsubscribe

## Unsubscribe pages ($address is masked: a***@example.org)

unsubscribe-invalid-title = Invalid link
unsubscribe-invalid-text = This unsubscribe link is not valid. Use the link in a recent reminder.
unsubscribe-title = Unsubscribe
unsubscribe-question = Stop deadline reminders to { $address }?
unsubscribe-button = Unsubscribe
unsubscribed-title = Unsubscribed
unsubscribed-text = { $address } will get no more deadline reminders.
