"""The English lexicon on kinds of patients' own words (followup/data/lexicons/upper-back/en.toml):
red flags said in everyday ways are read, and everyday senses of symptom words raise nothing.
The texts are written for these tests, not taken from the triage corpus."""

import pytest

from followup import reading

EMERGENCY = {"bladder_bowel", "saddle_numbness", "both_legs", "walking", "chest_pain", "fall_accident"}
URGENT = {"weakness", "fever", "night_pain"}


@pytest.mark.parametrize(
    "text, flag",
    [
        ("think I lost control of my blatter at the shops", "bladder_bowel"),
        ("couldnt control my number twos this morning", "bladder_bowel"),
        ("ive leaked a little twice today", "bladder_bowel"),
        ("this is his wife, he wet himself in his sleep", "bladder_bowel"),
        ("my nether bits feel numb since lunch", "saddle_numbness"),
        ("my husband says his chest feels tight", "chest_pain"),
        ("my right leg went tingly and now the left one too", "both_legs"),
        ("I think I have lost control down there", "bladder_bowel"),
        ("wee comes out when I cough", "bladder_bowel"),
        ("my bits have gone numb", "saddle_numbness"),
        ("my arse has gone numb", "saddle_numbness"),
        ("tingling in my tush", "saddle_numbness"),
        ("lost control of my car on the wet road", "fall_accident"),
        ("I missed the last step coming downstairs", "fall_accident"),
        ("both my legs are week today", "both_legs"),
        ("cant feel my feat", "both_legs"),
        ("lost control of my bowl this morning", "bladder_bowel"),
        ("my legs just wont work properly", "both_legs"),
        ("I have numbness. Not in my hands, between my legs", "saddle_numbness"),
    ],
)
def test_an_emergency_in_everyday_words_is_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("my hand just went while I was pouring the milk", "weakness"),
        ("my arm hasnt got the strength to lift the kettle", "weakness"),
        ("my arm feels like a wet noodle", "weakness"),
        ("dropped a bowl at breakfast, I never drop things", "weakness"),
        ("pain 6, resting does nothing for it", "night_pain"),
        ("pain is not relieved by lying down", "night_pain"),
        ("the ache wouldnt let up all evening", "night_pain"),
        ("standing, sitting, lying, nothing helps", "night_pain"),
        ("my grip is week", "weakness"),
        ("my fingers dont want to bend", "weakness"),
        ("my hand isnt working right", "weakness"),
        ("the pain is worse at nite", "night_pain"),
    ],
)
def test_an_urgent_finding_in_everyday_words_is_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "4 N, my arms dont feel weak",
        "2 N, I dont feel like doing the exercises today",
        "3 N, doesnt feel too bad",
        "2 N, my left leg aches, the other one is fine",
        "1 N, the roof leaked a bit in the rain",
        "3 N, made noodles for tea",
        "2 N, sorted out my spreadsheets at work",
        "done, hard to hold the stretch the full ten seconds",
        "2 N, the signal is weak here",
        "3 N, my hand went to sleep on the sofa",
    ],
)
def test_an_everyday_sense_of_a_symptom_word_raises_no_emergency_or_urgent_flag(text):
    assert not reading.read(text, "en").flags & (EMERGENCY | URGENT)


@pytest.mark.parametrize(
    "text",
    [
        "2 N, nothing strange going on in my groin",
        "3 N, got up early for the school run",
        "2 N, the pain doesnt wake me up anymore",
        "1 N, the ache eases when I rest",
        "2 N, booked a day trip to the coast",
        "3 N, my phone fell behind the bed",
        "2 N, knocked my coffee over at breakfast",
        "1 N, back on my feet without the cane",
        "done, did leg day at the gym",
        "2 N, broke my toe two summers ago",
        "2 N, headaches from staring at spreadsheets",
        "done 10 prone head lifts",
        "3 N, the pins and needles havent come back",
        "Pain 1. No change in my bladder or bowels.",
    ],
)
def test_a_benign_reply_is_not_escalated(text):
    result = reading.read(text, "en")
    assert not result.flags
    assert result.pain is None or result.pain < 7


@pytest.mark.parametrize(
    "text",
    [
        "3 N, walked round the park with my sister",
        "2 N, the boiler broke down again",
        "2 N, our team lost again on Saturday",
        "4 N, a bit stiff from sitting at my desk",
        "done in my lunch break",
        "3 N, always had a dodgy back",
        "done, a bit stiff but fine",
        "2 N, did the shoulder ones, the neck one is harder",
        "1 N, walked 8k steps",
        "2 N, wees and poos normal",
        "3 N, my grandson has a cold",
        "2 N, dislocated my knee in the army",
    ],
)
def test_a_benign_reply_in_everyday_words_leaves_nothing_for_the_clinic(text):
    result = reading.read(text, "en")
    assert not result.flags
    assert result.unaccounted == ()


@pytest.mark.parametrize(
    "text",
    [
        "2 N, when is my next appointment",
        "could you ring me back about the exercises",
        "did you get my message from yesterday",
    ],
)
def test_a_question_to_the_clinic_is_a_question(text):
    assert reading.read(text, "en").question


@pytest.mark.parametrize("text", ["Happy birthday Dad", "Ok Google", "love you too", "ok-ish"])
def test_a_text_meant_for_someone_else_is_no_acknowledgement(text):
    assert not reading.read(text, "en").acknowledged


@pytest.mark.parametrize(
    "text",
    [
        "2 N, had a falling out with my brother",
        "3 N, the kettle tripped the fuse",
        "2 N, my computer crashed again",
        "2 N, stumbled upon a lovely bakery",
        "3 N, ran into an old colleague in town",
        "2 N, sorry, sent the last one by accident",
        "2 N, went down to the pub for the quiz",
        "3 N, came off the phone with my daughter",
        "2 N, spilt the milk everywhere",
        "2 N, totally wiped out after work",
        "3 N, our flight landed late",
        "2 N, put the ice pack on after the walk",
        "3 N, crawled into bed early",
        "2 N, had my flu jab at the pharmacy",
        "3 N, getting the dog walker in this week",
        "2 N, it was a shock to hear the news",
        "2 N, the bottom of my bag is a mess",
        "3 N, woke up stiff but it eased",
        "5 N, on my feet all day at work",
        "3 N, fell down the stairs 20 yrs ago",
        "3 Y, same tingle in the same hand",
        "2 N, the temperature dropped a lot today",
        "3 N, I have a weakness for biscuits",
        "2 N, cant type much, in a meeting",
        "2 N, I do them at night after tea",
        "3 N, staying overnight at my brothers",
        "2 N, constant rain all week",
        "2 N, the baby was up all night with her teeth",
        "3 N, the neighbours party kept me up all night",
        "3 N, cant sleep in this heat",
        "2 N, on my feet all the time at work",
        "2 N, the kitchen tap is leaking again",
        "3 N, our toilet wont flush, plumber tomorrow",
        "2 N, spent the morning cleaning the bathroom",
        "3 N, my bank balance is a worry",
        "2 N, got a bit drunk at my nieces party",
        "3 N, the kids have a wobbly table in their den",
        "2 N, just a chesty cough",
        "3 N, the price of petrol gave me a heart attack",
        "2 N, the cat knocked over my tea",
        "3 N, my legs dont hurt today",
        "2 N, legs are not bad after the walk",
        "3 N, the traffic was a pain in the arse",
        "3 N, my hands dont hurt today",
        "2 N, my arm isnt sore now",
        "3 N, walking is not bad now",
        "2 N, my bowels havent changed",
    ],
)
def test_an_everyday_sense_raises_no_emergency_or_urgent_flag(text):
    result = reading.read(text, "en")
    assert not result.flags & (EMERGENCY | URGENT)
    assert result.pain is None or result.pain < 7


@pytest.mark.parametrize(
    "text",
    [
        "the pain keeps me awake all night",
        "it hurts more at night",
        "cant sleep with the pain",
        "pain is constant",
    ],
)
def test_pain_at_night_or_without_let_up_is_still_urgent(text):
    assert "night_pain" in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "2 N, absolutely buzzing for the match tonight",
        "3 N, my phone was buzzing all morning",
        "2 N, treated myself to a fizzy drink",
        "3 N, that warm and fuzzy feeling",
        "2 N, dead busy at the shop today",
        "3 N, my phone battery is dead",
        "2 N, the dog fell asleep on my lap",
        "3 N, carried the heavy shopping in with both arms",
        "2 N, weak excuse but I skipped them",
    ],
)
def test_an_everyday_sense_of_a_numbness_or_weakness_word_raises_no_flag(text):
    assert not reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text", ["my leg fell asleep on me", "my legs feel dead", "fingers buzzing", "my arm feels heavy"]
)
def test_numbness_and_weakness_in_those_words_are_still_read(text):
    assert reading.read(text, "en").flags & {"limb_numbness", "both_legs", "weakness"}


@pytest.mark.parametrize("text", ["nite nite", "good nite x"])
def test_good_nite_is_no_pain_score(text):
    result = reading.read(text, "en")
    assert result.pain is None
    assert result.acknowledged


@pytest.mark.parametrize(
    "text",
    [
        "2 N, oh shoot, forgot to text yesterday",
        "3 N, thunder and lightning all evening",
        "2 N, my sister travels up on Friday",
        "3 N, bled the radiators this morning",
        "2 N, sat back down after the walk",
        "3 N, wrapping presents for the grandkids",
        "2 N, new electric toothbrush",
        "3 N, pottering in the back garden",
        "2 N, shooting a video of the dog",
    ],
)
def test_an_everyday_sense_of_a_shooting_word_raises_no_flag(text):
    assert not reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text", ["the pain shoots down my back", "electric shocks down my spine", "it travels round to my ribs"]
)
def test_pain_shooting_down_the_spine_or_round_the_torso_is_still_read(text):
    assert "shooting" in reading.read(text, "en").flags


@pytest.mark.parametrize("text", ["a zappy feeling in my fingers", "my hand feels full of popping candy"])
def test_a_lay_word_for_tingling_is_numbness_not_a_typo_of_a_toilet_word(text):
    flags = reading.read(text, "en").flags
    assert "limb_numbness" in flags
    assert "bladder_bowel" not in flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("been dribbling a little whenever I stand up", "bladder_bowel"),
        ("pooed a little without realising on the bus", "bladder_bowel"),
        ("went in my trousers on the way home, so embarrassing", "bladder_bowel"),
        ("needed to go #2 and did not make it in time", "bladder_bowel"),
        ("I just cant stay dry lately", "bladder_bowel"),
        ("🦵🦵 both tingly since lunch", "both_legs"),
        ("climbing the stairs my legs shook and wouldnt hold me", "both_legs"),
        ("cant get a breath in properly, pain 3", "chest_pain"),
        ("tightness on my breastbone since this morning", "chest_pain"),
        ("my wife says my forehead is hot to the touch", "fever"),
        ("running a bit hot tonight, pain 4", "fever"),
        ("pain 3 🤒", "fever"),
    ],
)
def test_a_red_flag_in_lay_or_indirect_words_is_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "2 N, fall is my favourite time of year",
        "3 N, the fall colours on the drive were lovely",
        "2 N someone dented my car while it was parked outside the library",
        "3 N, dropped my son at football then had a coffee",
        "done them before the baby woke up",
        "4 N up early to beat the traffic",
        "the kids were dribbling the ball round the garden, 2 N",
    ],
)
def test_an_everyday_sense_of_a_fall_drop_waking_or_dribble_raises_no_flag(text):
    assert not reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("woke up early with the pain again", "night_pain"),
        ("the baby woke up at 3 and then the pain kept me awake", "night_pain"),
        ("someone backed into me at the lights, neck sore", "fall_accident"),
        ("dropped the kids off and then dropped my mug, hand is clumsy", "weakness"),
        ("I had a fall on the way to the car", "fall_accident"),
    ],
)
def test_an_everyday_phrase_beside_a_finding_does_not_hide_it(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "pain 2. nope on tingling",
        "4, nah on the numbness today",
        "pain 3, nothing radiating or shooting, just a dull ache",
        "pain 2, nothing travelling down my back",
        "the dizzy spells I had in my 50s were my blood pressure, long sorted. 2 N",
    ],
)
def test_a_denied_or_long_past_finding_raises_no_flag(text):
    assert not reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("nope, tingling in my fingers again", "limb_numbness"),
        ("4 and my toes feel funny", "limb_numbness"),
        ("Y mainly in my little finger. pain 3", "limb_numbness"),
        ("chest pain again today like in my 40s", "chest_pain"),
    ],
)
def test_a_finding_said_plainly_beside_those_words_is_still_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "2, had a bit of an episode today if you know what I mean",
        "pain 3 and sorry for the tmi but something happened on the bus",
    ],
)
def test_a_hint_the_patient_will_not_spell_out_goes_to_a_person(text):
    assert reading.read(text, "en").question


def test_wonderful_is_no_question():
    assert not reading.read("thanks, the physio was wonderful", "en").question


@pytest.mark.parametrize(
    "text",
    [
        "3 N, two night shifts at the hospital this week, shattered",
        "4 N, took my dad to his eye appointment",
        "2 N, the kids gave me funny looks doing my stretches in the garden",
        "1 N, awful weather for the match",
        "3 N. I'm dying to get back to dancing",
        "done, remembered to keep my shoulders back",
        "2 N, the puppy pulled on the lead all the way round",
        "3 N, did my stretches on break at the factory",
        "2 N, laughed so hard at the panto",
        "4 N, hot soup and an early night",
        "done them on the bed because the floor is cold",
        "2 N, the cat sat on me during the head lifts",
        "done, my granddaughter showed me how to use the app",
        "1 N, nothing odd going on in my groin",
        "pain 3, dull ache, nothing else",
        "done, the holds are tough but getting easier",
    ],
)
def test_everyday_chit_chat_with_a_symptom_word_in_its_everyday_sense_leaves_nothing_for_the_clinic(text):
    reply = reading.read(text, "en")
    assert not reply.flags and reply.unaccounted == ()


@pytest.mark.parametrize(
    "text, flag",
    [
        ("on my lunch at the hospital I collapsed", "fall_accident"),
        ("laughed so hard I wet myself and it never used to happen", "bladder_bowel"),
        ("did them on the floor and after that my legs went numb", "both_legs"),
        ("the hold is hard and my hand keeps dropping things", "weakness"),
        ("went for a walk and my legs gave way", "both_legs"),
    ],
)
def test_a_finding_beside_everyday_chit_chat_is_still_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "2 N my back felt great after I hit the gym",
        "1 N, the call kept dropping out so I gave up",
        "3 N, the trip plans fell through so we stayed in",
        "2 N, my birthday falls on a friday this year",
        "2 N, dropped a stitch in my knitting",
        "2 N, had to get it off my chest, my boss drives me mad",
        "3 N had a cold beer in the sun",
    ],
)
def test_an_idiom_with_a_fall_drop_hit_or_chest_word_raises_no_flag(text):
    assert not reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("fell for the first time this morning", "fall_accident"),
        ("hit the gym and then hit my head on the bar", "fall_accident"),
        ("I piddled myself before I got to the loo", "bladder_bowel"),
        ("my chest feels tight, wanted to get it off my chest", "chest_pain"),
    ],
)
def test_the_same_words_as_a_finding_are_still_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "2 N, had shooting pains down my back in 2015, long gone",
        "3 N. Back in my thirties I had sciatica down one leg, fine now",
        "can you resend the sheet, I spilt tea on it",
        "When I started the programme my neck was stiff, it is much easier now. 2 N",
    ],
)
def test_a_back_in_time_a_spilt_drink_or_a_statement_opening_with_when_raises_nothing(text):
    reply = reading.read(text, "en")
    assert not reply.flags and not reply.unaccounted


@pytest.mark.parametrize("text", ["when will the tingling stop", "when should I call you"])
def test_a_question_opening_with_when_is_still_a_question(text):
    assert reading.read(text, "en").question


def test_taking_a_spill_on_the_stairs_is_still_a_fall():
    assert "fall_accident" in reading.read("took a spill on the stairs", "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "I peed a little when I bent down",
        "I cant tell when I need the loo anymore",
        "no urge to pee at all since this morning",
        "had to change my knickers twice today",
    ],
)
def test_a_change_in_bladder_feeling_or_control_in_lay_words_is_an_emergency(text):
    assert "bladder_bowel" in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    ["2 N, got a bit wet in the rain", "I dont know if I need to go to the doctor about my back, pain 3"],
)
def test_getting_wet_or_needing_to_go_somewhere_is_no_bladder_finding(text):
    assert "bladder_bowel" not in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("3 N, had never felt any tightness in my chest till this evening", "chest_pain"),
        ("2 N, no trouble at all until I slipped on the ice at lunch", "fall_accident"),
        ("3 N, nothing to report apart from my bum going numb", "saddle_numbness"),
        ("3 N, all fine other than a numb crotch", "saddle_numbness"),
        ("2 N, unsure whether I wet myself in the night", "bladder_bowel"),
        ("3 N, I wasnt able to hold my wee on the bus", "bladder_bowel"),
        ("2 N, did not realise I needed the loo till it was too late", "bladder_bowel"),
        ("3 N, the ache is no better when I rest", "night_pain"),
        ("3 N, I hardly sleep because of the pain", "night_pain"),
        ("3 N, i fel off the step", "fall_accident"),
        ("3 N, my chest hurts similar to a few years ago", "chest_pain"),
    ],
)
def test_until_besides_doubt_and_no_better_leave_the_finding_reported(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "2 N, no pain until I sit too long at my desk",
        "3 N, the ache is better when I rest",
        "2 N, it feels easier lying down",
        "2 N, not sure if I did the right number of reps",
    ],
)
def test_until_besides_and_better_with_rest_raise_nothing_on_their_own(text):
    assert not reading.read(text, "en").flags & (EMERGENCY | URGENT)


def test_an_ouch_before_a_number_labels_it_a_pain_score():
    assert reading.read("ouch 8 neck tucks N", "en").pain == 8


def test_a_stroke_is_left_for_the_clinic_to_read():
    assert "stroke" in reading.read("3 N, stroke", "en").unaccounted


@pytest.mark.parametrize(
    "text, flag",
    [
        ("3 N, I did not feel my feet when I got up", "both_legs"),
        ("3 N, my bottom is not feeling anything", "saddle_numbness"),
        ("3 N, my legs wont support me on the stairs", "both_legs"),
        ("3 N, I cant tell when I go anymore", "bladder_bowel"),
        ("this is the patient's son, mum wet herself twice today", "bladder_bowel"),
        ("3 N, my husband has a tight chest and so do I", "chest_pain"),
        ("3 N, my sister slipped on the ice and me too", "fall_accident"),
        ("3 N, aching in my jaw and left arm since lunch", "chest_pain"),
    ],
)
def test_a_red_flag_said_as_not_feeling_not_holding_or_me_too_is_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text",
    [
        "3 N, the pins and needles in my fingers havent gone away",
        "3 N, my toes never stop tingling",
        "3 N, the numbness in my hand isnt gone",
    ],
)
def test_numbness_said_to_persist_is_reported(text):
    assert reading.read(text, "en").numbness is True


@pytest.mark.parametrize(
    "text",
    [
        "3 N, my arms havent gone numb",
        "2 N, the tingling went away",
    ],
)
def test_numbness_said_to_be_gone_or_never_come_is_denied(text):
    result = reading.read(text, "en")
    assert not result.numbness
    assert not result.flags & (EMERGENCY | URGENT)


@pytest.mark.parametrize(
    "text, word",
    [
        ("3 N, the grandkids all have a fever", "fever"),
        ("3 N, granddaughter wet the bed again", "wet"),
    ],
)
def test_a_grandchilds_finding_beside_the_writers_score_raises_nothing_and_is_their_news(text, word):
    # A grandchild is never the (adult) patient, whoever writes: no flag, and no review either
    # (the twelfth round; a parent's or a spouse's finding is still reviewed: test_reading.py).
    result = reading.read(text, "en")
    assert not result.flags & (EMERGENCY | URGENT)
    assert word not in result.unaccounted


@pytest.mark.parametrize(
    "text",
    [
        "2 N, raking the fallen leaves in the garden",
        "3 N, roasting marshmallows with the grandkids",
        "2 N, lovely temperature for a walk",
        "3 N, saw a film about a plane crash",
        "2 N, the office is freezing",
        "2 N, the heating pad is great",
        "3 N, my calves are achy from the hike",
    ],
)
def test_weather_cooking_films_and_tired_legs_leave_nothing_for_the_clinic(text):
    result = reading.read(text, "en")
    assert not result.flags
    assert not result.unaccounted


@pytest.mark.parametrize(
    "text, flag",
    [
        ("3 N, my calves are tingling after the hike", "both_legs"),
        ("3 N, the heating pad doesnt help at night", "night_pain"),
        ("3 N, I have a high temperature", "fever"),
        ("3 N, crashed the car on the way to see a film", "fall_accident"),
    ],
)
def test_a_finding_beside_weather_films_or_exercise_is_still_read(text, flag):
    assert flag in reading.read(text, "en").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("4 N, hurt my neck in the fall", "fall_accident"),
        ("4 N, keep dropping them", "weakness"),
        ("4 N, lying down doesnt stop me hurting", "night_pain"),
        ("4 N, in my 60s i have chest pain", "chest_pain"),
        ("4 N, cant get this weight off my chest", "chest_pain"),
        ("4 N, sudden drop in strength in my arm", "weakness"),
    ],
)
def test_an_everyday_phrase_never_swallows_the_symptom_that_shares_its_words(text, flag):
    # review13d: each of these was a plain thank-you after an exclude or history trigger meant for
    # autumn, dropping children off, "doesnt stop me gardening", a decade of life, venting.
    assert flag in reading.read(text, "en").flags
