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
milestone = Milestone
timeline = Timeline
opens = Opens
open-call = open until further notice
extended-from = Extended from
moved-from = Moved from
repeats = Repeats
every-year = every year

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
nav-languages = Languages
nav-filters = Filters
filter-all = all
other-formats = Other formats

## Reminder mail

# Subject lines: "[Deadlines] CERD — Report due in 7 days (15 July 2024)".
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

mail-greeting-anonymous = Hello,
mail-greeting-inline-anonymous = Hello, deadlines you follow:
mail-manage = To change what you get, pause the reminders or delete your data:
mail-manage-link = Manage your reminders
discreet-subject = { PLURAL($count) ->
    [one] Reminder: 1 item due { $when }
   *[other] Reminder: { $count } items due { $when }
}
discreet-from = Reminder
discreet-details = The details are further down.

## Sign-up ($address is masked: a***@example.org)

signup-title = Get e-mail reminders
signup-intro = A reminder reaches you by e-mail before each deadline you choose. You confirm by e-mail first; every mail has a link to change or stop the reminders, or to delete everything about you.
signup-email = E-mail address
signup-topics = Topics (none ticked: all)
signup-mechanisms = Mechanisms (none ticked: all)
signup-language = Language
signup-days = Remind me
signup-days-option = { $list } days before
signup-mode = How
signup-mode-digest = One mail per day listing everything due
signup-mode-each = One mail per deadline
signup-discreet = Discreet mails: the subject, the sender's name and the first lines say only "Reminder: 2 items due in 7 days" (for a phone others may see)
signup-submit = Sign up
signup-privacy = What we store and how to delete it
signup-sent-title = Check your mailbox
signup-sent-text = If this address can get reminders, a message is on its way to it. Open its link within { $hours } hours to confirm. Nothing else is sent until you confirm.
signup-error-title = Please correct the form
signup-error-email = Enter one e-mail address, such as name@example.org.
signup-error-too-long = A field is too long.
signup-error-topic = Choose topics from the list.
signup-error-mechanism = Choose mechanisms from the list.
signup-error-language = Choose a language from the list.
signup-error-days = Choose from the list when to be reminded.
signup-error-mode = Choose from the list how to be reminded.
signup-error-form = The form was open too long or did not come from this site. Please send it again.
signup-error-busy = Too many sign-ups come from your network. Please try again in an hour.
confirm-title = Confirm your reminders
confirm-text = Press the button to start deadline reminders to { $address }.
confirm-manage = Change your choice, or delete this request
confirm-button = Confirm
confirmed-title = Reminders confirmed
confirmed-text = { $address } will get deadline reminders. Every reminder has a link to change or stop them.
confirmed-approval-text = Thank you. The calendar's staff will look at your sign-up; reminders start once they approve it.
confirm-invalid-title = Link not valid
confirm-invalid-text = This confirmation link is not valid or has expired. Please sign up again on the page.
signup-mail-subject = Your deadline reminders
signup-mail-text = Somebody, probably you, asked for deadline reminders at this address. Open this link to confirm them, or, if this address gets them already, to change, pause or stop them:
signup-mail-ignore = If it was not you, ignore this message: nothing changes, and a request that is not confirmed within { $hours } hours is deleted.
signup-mail-encrypted = Encrypted message
notice-subject = A change to your reminder settings
notice-key-changed = The key your deadline reminders are encrypted to was changed on your preference page. They are encrypted to key { $fingerprint } from now on.
notice-key-removed = Your deadline reminders are no longer encrypted: the key was removed on your preference page.
notice-opted-out = Deadline reminders to this address are stopped.
notice-deleted = Everything about this address was deleted, as asked on its preference page. This is the last mail you get from us, and no link in our earlier mails works any more.
notice-not-you = If this was not you, enter this address in the sign-up form at { $url }: the mail you get leads to your preference page, where you can undo it and make a new link (the old one then stops working).
notice-not-you-deleted = If this was not you, you can sign up again at { $url }.

## The preference page

manage-title = Your reminders
manage-intro = Reminders go to { $address }.
manage-staff = Your topics and mechanisms are chosen by the calendar's staff: write to them to change those. Here you can change the language and the days, pause or stop the reminders.
manage-staff-contact = To change them, write to { $contact }.
manage-pending = This sign-up is not confirmed yet: the link in the confirmation mail starts the reminders.
manage-save = Save
manage-saved = Your choice is saved.
manage-pause = Pause the reminders for
manage-pause-button = Pause
manage-pause-option = { $days } days
manage-paused = Reminders are paused until { $date }.
manage-resume = Resume now
manage-resumed = Reminders are on again.
manage-unsubscribed = You unsubscribed: no reminders go to this address.
manage-resubscribe = Get reminders again
manage-unsubscribe = Stop all reminders
manage-rotate = Make a new link for this page
manage-rotate-help = The link you used stops working (useful if somebody else may have seen it).
manage-rotated = This is the new link of this page; the old one no longer works. Keep it, or use the link in your next reminder:
manage-delete = Delete everything about me
manage-delete-help = This deletes your address, your choices and the record of the reminders sent to you. It cannot be undone.
manage-invalid-title = Link not valid
manage-invalid-text = This link is not valid any more. Please use the link in your most recent reminder.
deleted-title = Everything deleted
deleted-text = No table of our database holds your address, or anything made from it, any more. One last mail says so, with no link in it; after it, you get no more mail from us unless you sign up again.

## The privacy statement

privacy-title = Privacy
privacy-stored = What we store: your e-mail address, the topics, mechanisms, language and reminder days you chose, your OpenPGP public key if you give one, and which reminders were sent to you. Nothing else: no name, no IP address, no tracking in pages or mails, nothing loaded from other sites.
privacy-how = How: on our server only, in a database where your address and your choices are encrypted with a key kept in a separate file; the database finds you by a fingerprint of your address made with that key. Whoever copies the database without the key cannot read them; whoever has both can. Our logs never name you for what you do on our pages.
privacy-how-long = How long: a sign-up you do not confirm is deleted after { $hours } hours. A confirmed one stays until you delete it.
privacy-delete = How to delete it: every mail from us has a link to your reminder settings, with a button that deletes everything about you at once.
privacy-mail = What others can see: your mail provider sees that mail comes from us. Reminders are sent over encrypted connections. If you give an OpenPGP key, every mail to you is encrypted to it, and whoever reads mail on its way sees only that an encrypted message came from us.

## OpenPGP key notices ($fingerprint: 40 hex digits; $date: 2026-12-31)

key-notice-subject = Reminders on hold: your encryption key has expired
key-notice-text = Your OpenPGP key { $fingerprint } expired on { $date }. Your reminders are only ever sent encrypted, never in clear, so they are held until there is a key that works.
key-notice-renew = Extend the key (for example: gpg --quick-set-expire <fingerprint> 2y '*') or make a new one, and send the public key. Held reminders that are still useful go out as soon as the key is updated.
key-notice-send-to = Send it to { $contact }.
key-notice-send-staff = Send it to the people who added you to these reminders.

## Preference page: OpenPGP ($fingerprint shortened: D47B…1EE0)

manage-key-title = Encrypted reminders (OpenPGP)
manage-key-help = Paste your OpenPGP public key and every mail to you is encrypted to it, and never sent in clear; outside it shows only "Reminder: 2 items due in 7 days". Export it with `gpg --armor --export you@example.org`, or from Thunderbird's OpenPGP Key Manager. Never paste a secret (private) key.
manage-key-label = Public key
manage-key-button = Encrypt my reminders to this key
manage-key-remove = Stop encrypting
manage-key-staff = Encryption for you is set by the staff who added you; send them your public key.
manage-key-saved = Saved: your reminders are encrypted to this key from now on.
manage-key-removed = Your reminders are no longer encrypted.
manage-key-refused = This key cannot be used, nothing was saved:
manage-key-current = Your mail is encrypted to key { $fingerprint }.
manage-key-until = Your mail is encrypted to key { $fingerprint }, which expires on { $date }.
manage-key-expired = Your key { $fingerprint } expired on { $date }: your reminders are held until you paste a renewed key.
key-notice-paste = Paste it on your preference page (the link below).

## Submission requirements ($n: a number)

req-word-limit = Word limit
req-words = { $n } words
req-page-limit = Page limit
req-pages = { PLURAL($n) ->
    [one] { $n } page
   *[other] { $n } pages
}
req-languages = Languages
req-submit-via = Submit via
req-via-email = e-mail
req-via-portal = online portal
req-via-post = post
req-via-form = web form
req-subject-line = E-mail subject
req-public = May be published
req-public-yes = yes
req-public-no = no
req-public-on-request = only on request
req-verified = Checked against the source
req-source = Source
req-title = Requirements
