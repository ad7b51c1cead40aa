# Тексты mechcal на русском.

language-name = Русский

## Даты и дни

month-1 = Январь
month-2 = Февраль
month-3 = Март
month-4 = Апрель
month-5 = Май
month-6 = Июнь
month-7 = Июль
month-8 = Август
month-9 = Сентябрь
month-10 = Октябрь
month-11 = Ноябрь
month-12 = Декабрь
month-1-of = января
month-2-of = февраля
month-3-of = марта
month-4-of = апреля
month-5-of = мая
month-6-of = июня
month-7-of = июля
month-8-of = августа
month-9-of = сентября
month-10-of = октября
month-11-of = ноября
month-12-of = декабря
date = { $day } { $month } { $year }
month-heading = { $month } { $year }
today = сегодня
tomorrow = завтра
yesterday = вчера
in-days = { PLURAL($days) ->
    [one] через { $days } день
    [few] через { $days } дня
    [many] через { $days } дней
   *[other] через { $days } дня
}
days-ago = { PLURAL($days) ->
    [one] { $days } день назад
    [few] { $days } дня назад
    [many] { $days } дней назад
   *[other] { $days } дня назад
}

## Сведения о дедлайне

due = Срок
end-of-day = до конца дня
submit-to = Куда подавать
link = Ссылка
topics = Темы
mechanisms = Механизмы
mechanism = Механизм
status = Статус
tentative = предварительно
cancelled = отменено
country = Страна

## Страница

past = Прошедшие дедлайны
no-upcoming = Предстоящих дедлайнов нет.
subscribe = Подписаться на этот календарь
subscribe-button = Подписаться (webcal)
copy-url = Или скопируйте этот адрес в свой календарь:
howto-google = Google Календарь: Другие календари → + → Добавить по URL, вставьте адрес. Google обновляет подписки лишь раз в 12–24 часа и не показывает их напоминания; напоминания по e-mail надёжнее.
howto-apple = Календарь Apple (Mac, iPhone): нажмите «Подписаться» или Файл → Новая подписка на календарь и вставьте адрес.
howto-outlook = Outlook: Добавить календарь → Подписаться из Интернета, вставьте адрес.
add-to-calendar = Добавить в календарь (.ics)
back = Все дедлайны
filter-all = все
other-formats = Другие форматы

## Письма-напоминания

mail-subject-due = срок { $when }
mail-subject-moved = срок перенесён
mail-subject-cancelled = отменено
mail-subject-more = { $first } и ещё { $more }
mail-heading = { $kind ->
    [moved] СРОК ПЕРЕНЕСЁН: { $what }
    [cancelled] ОТМЕНЕНО: { $what }
   *[other] { $what }
}
mail-was = Было
mail-greeting = Здравствуйте, { $name }!
mail-intro = Дедлайны, за которыми вы следите:
mail-greeting-inline = Здравствуйте, { $name }! Дедлайны, за которыми вы следите:
mail-attachment = Приложенный файл календаря добавит эти дедлайны в ваш календарь.
mail-stop = Чтобы отписаться от напоминаний:
mail-unsubscribe = Отписаться

## Отписка

unsubscribe-invalid-title = Неверная ссылка
unsubscribe-invalid-text = Эта ссылка для отписки недействительна. Воспользуйтесь ссылкой из недавнего напоминания.
unsubscribe-title = Отписка
unsubscribe-question = Больше не присылать напоминания на { $address }?
unsubscribe-button = Отписаться
unsubscribed-title = Вы отписались
unsubscribed-text = На { $address } больше не будут приходить напоминания.
