# Тэксты mechcal па-беларуску. Носьбіт мовы павінен праверыць іх перад
# выпускам (гл. README, «Мовы»).

language-name = Беларуская

## Даты і дні

month-1 = Студзень
month-2 = Люты
month-3 = Сакавік
month-4 = Красавік
month-5 = Май
month-6 = Чэрвень
month-7 = Ліпень
month-8 = Жнівень
month-9 = Верасень
month-10 = Кастрычнік
month-11 = Лістапад
month-12 = Снежань
month-1-of = студзеня
month-2-of = лютага
month-3-of = сакавіка
month-4-of = красавіка
month-5-of = мая
month-6-of = чэрвеня
month-7-of = ліпеня
month-8-of = жніўня
month-9-of = верасня
month-10-of = кастрычніка
month-11-of = лістапада
month-12-of = снежня
date = { $day } { $month } { $year }
month-heading = { $month } { $year }
today = сёння
tomorrow = заўтра
yesterday = учора
in-days = { PLURAL($days) ->
    [one] праз { $days } дзень
    [few] праз { $days } дні
    [many] праз { $days } дзён
   *[other] праз { $days } дня
}
days-ago = { PLURAL($days) ->
    [one] { $days } дзень таму
    [few] { $days } дні таму
    [many] { $days } дзён таму
   *[other] { $days } дня таму
}

## Звесткі пра тэрмін

due = Тэрмін
end-of-day = да канца дня
submit-to = Куды падаваць
link = Спасылка
topics = Тэмы
mechanisms = Механізмы
mechanism = Механізм
status = Статус
tentative = папярэдне
cancelled = адменена
country = Краіна

## Старонка

past = Мінулыя тэрміны
no-upcoming = Бліжэйшых тэрмінаў няма.
subscribe = Падпісацца на гэты каляндар
subscribe-button = Падпісацца (webcal)
copy-url = Або скапіруйце гэты адрас у свой каляндар:
howto-google = Google Каляндар: Іншыя календары → + → Па URL-адрасе, устаўце адрас. Google абнаўляе падпіскі толькі раз на 12–24 гадзіны і не паказвае іх напамінаў; напаміны па e-mail надзейнейшыя.
howto-apple = Каляндар Apple (Mac, iPhone): націсніце «Падпісацца» або Файл → Новая падпіска на каляндар і ўстаўце адрас.
howto-outlook = Outlook: Дадаць каляндар → Падпісацца з інтэрнэту, устаўце адрас.
add-to-calendar = Дадаць у каляндар (.ics)
back = Усе тэрміны
filter-all = усе
other-formats = Іншыя фарматы

## Лісты-напаміны

mail-subject-due = тэрмін { $when }
mail-subject-moved = тэрмін перанесены
mail-subject-cancelled = адменена
mail-subject-more = { $first } і яшчэ { $more }
mail-heading = { $kind ->
    [moved] ТЭРМІН ПЕРАНЕСЕНЫ: { $what }
    [cancelled] АДМЕНЕНА: { $what }
   *[other] { $what }
}
mail-was = Было
mail-greeting = Добры дзень, { $name }!
mail-intro = Тэрміны, за якімі вы сочыце:
mail-greeting-inline = Добры дзень, { $name }! Тэрміны, за якімі вы сочыце:
mail-attachment = Далучаны файл календара дадасць гэтыя тэрміны ў ваш каляндар.
mail-stop = Каб адпісацца ад напамінаў:
mail-unsubscribe = Адпісацца

## Адпіска

unsubscribe-invalid-title = Няправільная спасылка
unsubscribe-invalid-text = Гэтая спасылка для адпіскі несапраўдная. Скарыстайцеся спасылкай з нядаўняга напаміну.
unsubscribe-title = Адпіска
unsubscribe-question = Больш не дасылаць напаміны на { $address }?
unsubscribe-button = Адпісацца
unsubscribed-title = Вы адпісаліся
unsubscribed-text = На { $address } больш не будуць прыходзіць напаміны.
