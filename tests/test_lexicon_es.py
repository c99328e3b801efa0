"""The Spanish lexicon (followup/data/lexicons/upper-back/es.toml) on kinds of replies it was tuned
for: relatives writing for the patient, third-person forms, regional words, and everyday senses of
symptom words. The texts are written for these tests, not taken from the triage corpus."""

import pytest

from followup import reading


def _flags(text):
    return reading.read(text, "es").flags


@pytest.mark.parametrize(
    "text, flag",
    [
        ("mi suegra dice que le arde el pecho desde la mañana", "chest_pain"),
        ("mi papá dice q no puede pararse solo de la silla", "walking"),
        ("mi esposa dice que se le caen las cucharas de la mano", "weakness"),
        ("soy su hijo, se orinó en el sillón sin darse cuenta", "bladder_bowel"),
        ("mi tío no va a hacer los ejercicios, tiene fiebre", "fever"),
    ],
)
def test_a_relative_telling_what_the_patient_says_reports_the_patients_own_finding(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text, flag",
    [
        ("mi mamá dice que se le duerme la pierna derecha", "limb_numbness"),
        ("mi esposo dice que la mano no le aprieta", "weakness"),
        ("le escribo por mi abuelo, no controla el estómago desde ayer", "bladder_bowel"),
    ],
)
def test_third_person_forms_of_a_finding_are_read(text, flag):
    assert flag in _flags(text)


def test_a_thing_that_fell_from_someone_is_no_fall():
    assert "fall_accident" not in _flags("2 N, a mi nieta se le cayó el helado en la calle")


@pytest.mark.parametrize(
    "text, flag",
    [
        ("tengo acorchado el culete desde anoche", "saddle_numbness"),
        ("se me duerme donde uno se sienta", "saddle_numbness"),
        ("las dos gambas se me durmieron", "both_legs"),
        ("ambas patas entumidas", "both_legs"),
    ],
)
def test_regional_words_for_a_site_are_read(text, flag):
    assert flag in _flags(text)


def test_a_texted_porque_ends_the_negation_before_it():
    assert "bladder_bowel" in _flags("no los hice xq amaneci con la cama mojada")


def test_a_yes_after_and_is_no_hypothetical():
    assert "limb_numbness" in _flags("3 y si tengo hormigueo en el brazo")


def test_a_texted_nada_de_still_denies():
    assert "limb_numbness" not in _flags("2 N nada d entumecimiento")


def test_the_internet_going_down_is_no_fall():
    assert "fall_accident" not in _flags("3 N, no respondi porque se cayo el internet")


@pytest.mark.parametrize(
    "text",
    [
        "2 N, no noto nada raro en los pies",
        "1 N, no siento nada extraño ahí abajo",
        "3 N. la mano se me dormía hace años, ahora nada",
        "2 N, el año pasado tuve hormigueo en el brazo",
        "4 N, hoy trabajé parado todo el turno",
        "3 N, me muero de ganas de salir",
        "chido, gracias",
        "2 N, el doctor dice que es de un golpe viejo",
        "3 N, se me pone dura la espalda con el frío",
    ],
)
def test_everyday_and_past_senses_of_symptom_words_raise_no_flag(text):
    assert _flags(text) == frozenset()


def test_nothing_strange_in_the_legs_is_an_answer_with_nothing_left_over():
    reading_ = reading.read("no siento nada raro en las piernas, 2", "es")
    assert reading_.flags == frozenset() and reading_.unaccounted == ()


@pytest.mark.parametrize(
    "text",
    [
        "4 N, hoy no hubo misa en la noche",
        "2 N, el perro me despertó a las 6",
        "3 N, me quedé dormida en el sillón",
        "2 N, buenas noches, ya los hice",
        "listo, los de los hombros y los del cuello",
        "3 N, mañana viajo a ver a mi hermana",
        "2 N, limpié la cocina y lavé la ropa",
        "4 N, puedo caminar bien y tengo fuerza en las manos",
        "2 N, mi suegra anda con la presión alta",
        "3 N, y la fiebre nunca me dio",
    ],
)
def test_everyday_replies_are_read_in_full(text):
    reading_ = reading.read(text, "es")
    assert reading_.flags == frozenset() and reading_.unaccounted == ()


@pytest.mark.parametrize(
    "text, flag",
    [
        ("buenas noches, no he podido dormir del dolor", "night_pain"),
        ("la pierna izquierda se me quedó dormida", "limb_numbness"),
        ("ando con dolor en el pecho desde ayer", "chest_pain"),
        ("se me cayó el celular dos veces, no lo puedo sostener", "weakness"),
        ("no tengo fuerza para caminar, puedo caminar pero poco", "walking"),
    ],
)
def test_a_finding_beside_an_everyday_phrase_is_still_read(text, flag):
    assert flag in _flags(text)


def test_para_is_no_wall():
    assert "walking" not in _flags("2 N, salgo a caminar para despejarme")


def test_no_strength_to_walk_is_difficulty_walking():
    assert "walking" in _flags("no tengo fuerza para caminar")


@pytest.mark.parametrize(
    "text",
    [
        "3 N, ya pude descargar la aplicación",
        "2 N, hace un día cálido",
        "2 N, estoy al corriente con los ejercicios",
        "3 N, vimos un rodeo en la feria",
    ],
)
def test_everyday_words_near_a_symptom_word_raise_no_flag(text):
    assert _flags(text) == frozenset()


@pytest.mark.parametrize("text", ["¡Feliz Navidad a todos!", "ya llegué a la casa", "ahi va"])
def test_a_greeting_or_a_message_for_someone_else_is_no_answer(text):
    assert not reading.read(text, "es").understood


def test_a_greeting_beside_an_answer_keeps_the_answer():
    reading_ = reading.read("feliz navidad, 2 N", "es")
    assert reading_.pain == 2 and reading_.numbness is False


@pytest.mark.parametrize(
    "text, flag",
    [
        ("no puedo dar ni un paso sin ayuda", "walking"),
        ("me caigo al caminar desde el martes", "walking"),
        ("ensucié los calzones sin darme cuenta", "bladder_bowel"),
        ("no he evacuado en dos días", "bladder_bowel"),
        ("me estoy haciendo del baño y no lo siento", "bladder_bowel"),
        ("no me llegan las ganas de orinar", "bladder_bowel"),
        ("siento piquetes en el corazón", "chest_pain"),
    ],
)
def test_more_lay_words_for_a_red_flag_are_read(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "2 N, me caigo de sueño",
        "3 N, la llamada se cae seguido",
        "3 N, el nene ensució la cama",
        "listo, las hice en la cama",
        "2 N, mañana paso a la farmacia",
    ],
)
def test_everyday_senses_of_those_words_raise_no_flag(text):
    assert _flags(text) == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "3 N, vi un accidente en la carretera",
        "2 N, estoy muerto de cansancio",
        "2 N, se me cae el pelo con el champú nuevo",
        "3 N, me levanto temprano para el trabajo",
        "2 N, compré pañales para la bebé",
        "2 N, me mojé con la lluvia de camino a la casa",
        "2 N, el ruido no me dejó dormir",
        "3 N, ando a las carreras",
        "2 N, me tomé la presión en la farmacia",
    ],
)
def test_everyday_senses_of_fall_wet_dead_and_waking_words_raise_no_flag(text):
    assert _flags(text) == frozenset()


@pytest.mark.parametrize(
    "text, flag",
    [
        ("me di un golpe fuerte en la espalda", "fall_accident"),
        ("tengo que usar pañales para adulto", "bladder_bowel"),
        ("el dolor me levanta en la madrugada", "night_pain"),
        ("siento choques eléctricos en la espalda", "shooting"),
    ],
)
def test_the_same_words_in_a_symptom_still_flag(text, flag):
    assert flag in _flags(text)


def test_electric_shocks_down_the_spine_are_no_numbness_answer():
    reading_ = reading.read("toques eléctricos en la espalda, 2 N", "es")
    assert "shooting" in reading_.flags and reading_.numbness is False


def test_winters_ago_are_no_pain_score():
    assert reading.read("2 N, me caí en la nieve hace 4 inviernos", "es").pain == 2


@pytest.mark.parametrize(
    "text, flag",
    [
        ("mi esposa me pidió que les diga que tiene calentura", "fever"),
        ("les aviso que mi papá se cayó en la regadera", "fall_accident"),
        ("mi abuela me comentó que le aprieta el pecho", "chest_pain"),
    ],
)
def test_more_ways_a_relative_relays_the_patients_words(text, flag):
    assert flag in _flags(text)


def test_a_relative_who_cannot_text_is_no_weak_hand():
    assert _flags("mi mamá no puede escribir, dice que 2 y N") == frozenset()


@pytest.mark.parametrize(
    "text, flag",
    [
        ("no puedo walk sin agarrarme", "walking"),
        ("no tengo control del bladder desde ayer", "bladder_bowel"),
    ],
)
def test_english_words_inside_a_spanish_red_flag_are_read(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize("text", ["de maravilla", "todo tranqui, 2 N", "hoy sí pude hacerlos todos"])
def test_regional_acknowledgements_and_dones_are_accounted_for(text):
    reading_ = reading.read(text, "es")
    assert reading_.understood and reading_.unaccounted == () and reading_.flags == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "dolor 2, me duelen las piernas de tanto caminar",
        "2, sin hormigueo en las manos ni en los pies",
        "2, ya se me quitó el entumecimiento",
        "1 N, dormí bien toda la noche",
        "2 N, no siento los pies raros",
    ],
)
def test_a_score_a_list_or_a_denial_is_no_red_flag(text):
    assert _flags(text) == frozenset()


@pytest.mark.parametrize(
    "text, flag",
    [
        ("se me quitaron las ganas de hacer pipí", "bladder_bowel"),
        ("tengo las 2 piernas entumidas", "both_legs"),
        ("no siento las piernas", "both_legs"),
    ],
)
def test_the_red_flags_beside_those_denials_still_fire(text, flag):
    assert flag in _flags(text)


def test_some_years_ago_is_the_past():
    assert _flags("2 N, hace unos años me dio una angina") == frozenset()
    assert "fall_accident" in _flags("hace unos días me caí en la calle")


@pytest.mark.parametrize(
    "text", ["ya no quiero recibir mensajes", "ok, me puede llamar la doctora", "necesito hablar con alguien"]
)
def test_a_request_for_the_clinic_is_read_as_a_question(text):
    assert reading.read(text, "es").question


def test_morning_or_night_in_a_question_about_exercises_is_no_night_pain():
    assert _flags("los estiramientos van en la mañana o en la noche") == frozenset()


@pytest.mark.parametrize(
    "text, flag",
    [
        ("me he meado encima sin querer", "bladder_bowel"),
        ("ayer me di un batacazo en la acera", "fall_accident"),
        ("perdí el sentido un momento en la cocina", "fall_accident"),
        ("tengo dormidos los testículos", "saddle_numbness"),
        ("las manos no me aprietan nada", "weakness"),
    ],
)
def test_regional_words_for_red_flags_are_read(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "2 N, tengo agujetas de tanto estirar",
        "2 N, me tumbé un rato después de comer",
        "3 N, me pegué una siesta",
        "2 N, me di una ducha caliente y me ayudó",
        "2 N, me agarró la lluvia saliendo del trabajo",
        "3 N, se me bajó la presión",
        "2 N, me vino la regla",
    ],
)
def test_everyday_senses_in_spain_and_latin_america_raise_no_flag_and_leave_nothing(text):
    reading_ = reading.read(text, "es")
    assert reading_.flags == frozenset() and reading_.unaccounted == ()


@pytest.mark.parametrize(
    "text",
    [
        "1, ya no siento el pie dormido",
        "2, ya no siento los piquetes en la mano",
        "3, ni entumida ni dormida",
    ],
)
def test_no_longer_feeling_the_numbness_is_no_numbness(text):
    assert _flags(text) == frozenset()


def test_not_feeling_the_hand_itself_is_still_numbness():
    assert "limb_numbness" in _flags("ya no siento el hormigueo pero no siento la mano")


def test_a_plan_to_do_them_later_is_not_done():
    assert reading.read("hoy no, los voy a hacer mañana temprano", "es").done == 0


def test_running_late_is_no_shooting_pain():
    reading_ = reading.read("listo, y ahora a correr que voy tarde", "es")
    assert reading_.flags == frozenset() and reading_.unaccounted == ()


@pytest.mark.parametrize("text", ["me falla la mano izquierda", "no atino a abotonarme la camisa"])
def test_a_failing_hand_is_weakness(text):
    assert "weakness" in _flags(text)


def test_a_hand_that_gives_no_trouble_is_no_weakness():
    assert "weakness" not in _flags("la mano no me da problemas")


@pytest.mark.parametrize(
    "text",
    [
        "2 N, me tomaron rayos x ayer",
        "3 N, uso faja para trabajar",
        "2 N, le di un toque a mi hija para que me llame",
        "2 N, hay fiebre del futbol en la casa",
        "2 N, me dieron escalofríos de miedo con la noticia",
    ],
)
def test_x_rays_a_girdle_a_ring_and_football_fever_are_no_findings(text):
    assert _flags(text) == frozenset()


@pytest.mark.parametrize(
    "text",
    ["2 N, hoy limpié los baños", "3 N, hice cola dos horas en el banco", "2 N, se acabó el papel de baño"],
)
def test_chores_and_queues_leave_nothing_for_the_clinic(text):
    reading_ = reading.read(text, "es")
    assert reading_.flags == frozenset() and reading_.unaccounted == ()


def test_not_feeling_the_paper_is_still_saddle_numbness():
    assert "saddle_numbness" in _flags("no siento el papel de baño cuando me limpio")


@pytest.mark.parametrize(
    "text, flag",
    [
        ("traigo las piernas flojitas desde la mañana", "both_legs"),
        ("anoche me he hecho del baño en la cama", "bladder_bowel"),
        ("he tenido pérdidas de orina sin querer", "bladder_bowel"),
        ("se me ha escapado la orina en la calle", "bladder_bowel"),
        ("soy su hija, se va de lado cuando anda por la casa", "walking"),
        ("no tengo fuerzas en las piernas para levantarme del inodoro", "both_legs"),
    ],
)
def test_lay_and_perfect_tense_forms_of_an_emergency_are_read(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "el dolor me atraviesa de la espalda a la panza",
        "me aprieta como en banda, desde la espalda hasta el costado",
    ],
)
def test_pain_crossing_from_the_back_round_the_torso_is_shooting_pain(text):
    assert "shooting" in _flags(text)


@pytest.mark.parametrize("text", ["no he tenido pérdidas de orina", "no se me ha salido la orina para nada"])
def test_a_denied_leak_in_the_perfect_tense_raises_no_flag(text):
    assert "bladder_bowel" not in _flags(text)


def test_echar_ganas_is_no_chest_pain():
    assert "chest_pain" not in _flags("me cuesta el de los hombros pero le echo ganas")


@pytest.mark.parametrize(
    "text, flag",
    [
        ("me resbalé hace dos días y ahora me duele el cuello", "fall_accident"),
        ("desde hace tres días se me sale la orina sin darme cuenta", "bladder_bowel"),
    ],
)
def test_a_few_days_ago_is_within_the_programme_not_history(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text, flag",
    [
        ("me pegué bien fuerte en la espalda con la puerta", "fall_accident"),
        ("traigo las piernas bien pesadas", "both_legs"),
    ],
)
def test_bien_before_an_adjective_is_very_not_fine(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "2 N. el choque del 2016 fue lo que me dejó así la espalda",
        "3 N, my fall was like 6 years ago, ahora bien",
    ],
)
def test_an_accident_of_a_named_year_or_years_ago_is_the_past(text):
    assert "fall_accident" not in _flags(text)


@pytest.mark.parametrize("text", ["3 N, hace un frío que pela", "2 N. hace un calor horrible en la ciudad"])
def test_the_weather_said_strongly_leaves_nothing_for_the_clinic(text):
    assert reading.read(text, "es").unaccounted == ()


@pytest.mark.parametrize(
    "text",
    [
        "3 N, ayer estuve diez horas parada en la tienda",
        "2 N, mañana me toca guardia en el hospital",
        "4 N, el dolor bajó de 5 a 4 esta semana",
        "amanecí muy bien, 1",
        "2 N, de ahí empezó lo del cuello pero ya está mejor",
        "1 N, dormí mal por la tormenta",
        "2 N, no me siento mareado",
        "3 N, ya hasta puedo trapear la cocina",
    ],
)
def test_everyday_senses_of_standing_hospital_lowering_and_starting_leave_nothing(text):
    assert reading.read(text, "es").unaccounted == ()


@pytest.mark.parametrize(
    "text, word",
    [("estoy bien mareada", "mareada"), ("dormí mal por el dolor", "mal"), ("amanecí peor", "peor")],
)
def test_a_symptom_word_beside_those_phrases_is_still_left_for_the_clinic(text, word):
    assert word in reading.read(text, "es").unaccounted


@pytest.mark.parametrize(
    "text, flag",
    [
        ("mi hija dice que tengo la piel calientita", "fever"),
        ("hoy ando ardiendo, 3 N", "fever"),
        ("traigo las piernas como de hule", "both_legs"),
        ("se me escapan gotitas al caminar", "bladder_bowel"),
        ("desde ayer ando goteando", "bladder_bowel"),
    ],
)
def test_heat_of_the_body_rubber_legs_and_dribbling_in_lay_words_are_read(text, flag):
    assert flag in _flags(text)


def test_boiling_in_the_heat_of_the_day_is_no_fever():
    assert "fever" not in _flags("2 N, aquí andamos hirviendo de calor")


@pytest.mark.parametrize(
    "text",
    ["siento una opresión aquí adelante", "no me alcanza el aire, 4", "me cuesta jalar aire desde la tarde"],
)
def test_tightness_in_front_and_shortness_of_breath_in_lay_words_are_chest_symptoms(text):
    assert "chest_pain" in _flags(text)


def test_a_tight_shoe_is_no_chest_pain():
    assert "chest_pain" not in _flags("2 N, el zapato nuevo me aprieta adelante")


@pytest.mark.parametrize(
    "text",
    [
        "no hallo acomodo en la noche, 5",
        "me sigue doliendo aunque esté quieta",
        "no encuentro postura para dormir",
    ],
)
def test_pain_that_no_position_or_rest_eases_is_night_pain(text):
    assert "night_pain" in _flags(text)


def test_not_finding_an_exercises_position_is_no_night_pain():
    assert "night_pain" not in _flags("no encuentro la posición de los hombros en el ejercicio")


def test_a_glass_slipping_from_the_hand_is_weakness():
    assert "weakness" in _flags("se me fue la taza de la mano")


@pytest.mark.parametrize(
    "text", ["3 N, se me fue el camión", "2 N, perdón, se me fue la onda", "se me pasó la hora, 1 N"]
)
def test_missing_the_bus_or_forgetting_is_no_loss_of_control(text):
    assert "bladder_bowel" not in _flags(text)


def test_the_letter_n_spelt_out_answers_no_numbness():
    assert reading.read("cuatro ene", "es").numbness is False


@pytest.mark.parametrize(
    "text",
    [
        "2 N, ya me cayó el veinte de cómo se hace el de los hombros",
        "3 N, me volteé a ver al perro",
        "1 N, nos pegamos un susto con los truenos",
        "2 N, el fin de semana nos cayó visita",
        "3 N, mi vecina me cae muy bien",
    ],
)
def test_idioms_of_falling_turning_and_hitting_are_no_accident(text):
    assert "fall_accident" not in _flags(text)


def test_a_fright_from_a_real_fall_still_fires():
    assert "fall_accident" in _flags("me pegué un susto porque me caí en la regadera")


@pytest.mark.parametrize(
    "text, flag",
    [
        ("2 N, se me durmió la nena después de comer", "limb_numbness"),
        ("3 N, anoche nos desvelamos en la boda", "night_pain"),
        ("1 N, mi esposo no me dejó dormir con sus ronquidos", "night_pain"),
        ("2 N, ya le di pecho al niño", "chest_pain"),
    ],
)
def test_a_child_asleep_a_late_night_and_breastfeeding_raise_no_flag(text, flag):
    assert flag not in _flags(text)


@pytest.mark.parametrize(
    "text, flag",
    [
        ("me desvelé con el dolor de espalda", "night_pain"),
        ("se me durmió la mano cargando al nene", "limb_numbness"),
    ],
)
def test_the_same_words_about_the_patients_own_symptom_still_fire(text, flag):
    assert flag in _flags(text)


def test_that_same_year_leaves_nothing_for_the_clinic():
    assert reading.read("2 N, tuve una infección pero se curó ese mismo año", "es").unaccounted == ()


def test_numbness_of_the_anus_is_still_saddle_numbness():
    assert "saddle_numbness" in _flags("siento dormido el ano desde ayer")


def test_para_nada_before_a_finding_denies_it():
    assert reading.read("2, para nada hormigueo", "es").numbness is False


def test_para_nada_after_a_finding_is_at_all_and_keeps_it():
    assert "limb_numbness" in _flags("no se me quita el hormigueo de la mano para nada")


# Second pass on an independent tester's findings: negation that ends, findings that persist,
# relatives who sign, and everyday senses. Written for these tests, not taken from any corpus.


@pytest.mark.parametrize(
    "text, flag",
    [
        ("5 N, jamás me había dolido el pecho hasta ayer", "chest_pain"),
        ("3 N, no tenía nada de hormigueo en los pies hasta anoche", "limb_numbness"),
        ("4 N, todo bien hasta que me resbalé en la regadera", "fall_accident"),
    ],
)
def test_a_finding_that_began_today_is_no_denial_because_it_never_happened_before(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "2, sin hormigueo hasta hoy",
        "2, no he sentido hormigueo hasta hoy",
        "2, no hay hormigueo hasta este momento",
    ],
)
def test_so_far_no_tingling_is_still_a_denial(text):
    assert reading.read(text, "es").numbness is False


@pytest.mark.parametrize(
    "text, flag",
    [
        ("3 N, los pies no dejan de hormiguearme", "limb_numbness"),
        ("4 N, las patitas ya no me aguantan", "both_legs"),
        ("4 N, mis piernitas flojitas desde ayer", "both_legs"),
    ],
)
def test_a_finding_that_never_stops_or_a_diminutive_of_the_legs_is_reported(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize("text", ["3, de hormigueo nada", "5, entumecimiento nada"])
def test_de_hormigueo_nada_denies_the_tingling(text):
    reply = reading.read(text, "es")
    assert reply.numbness is False and "limb_numbness" not in reply.flags


@pytest.mark.parametrize(
    "text", ["3, tengo poquito hormigueo en la mano nada más", "3, algo de hormigueo en el pie, nada grave"]
)
def test_nada_mas_or_nada_grave_after_tingling_keeps_it(text):
    assert "limb_numbness" in _flags(text)


def test_not_getting_to_sleep_with_the_reflexive_is_night_pain():
    assert "night_pain" in _flags("4 N, anoche no me podía dormir del dolor")


def test_not_getting_to_sleep_for_the_coffee_is_no_night_pain():
    assert "night_pain" not in _flags("2 N, no me pude dormir por el cafe de la tarde")


@pytest.mark.parametrize(
    "text, flag",
    [
        ("nieto: mi abuela se cayó en el patio", "fall_accident"),
        ("3 N, a mi marido le duele el pecho y a mí también", "chest_pain"),
    ],
)
def test_a_relative_who_signs_or_a_me_too_makes_the_finding_the_patients(text, flag):
    assert flag in _flags(text)


@pytest.mark.parametrize(
    "text, flag",
    [
        ("4 N, nada nuevo excepto que se me duermen las nalgas", "saddle_numbness"),
        ("4 N, hormigueo en los brazos no pero sí ahí abajo", "saddle_numbness"),
        ("5 N, el pecho me duele parecido al de hace dos años", "chest_pain"),
        ("4 N, me duele el hombro izquierdo y la quijada", "chest_pain"),
        ("4 N, no sabía que se me había salido la orina", "bladder_bowel"),
        ("3 N pero me tropiezo, ni la pierna derecha ni la izquierda responden bien", "walking"),
    ],
)
def test_an_exception_a_carried_si_or_a_comparison_keeps_the_finding(text, flag):
    assert flag in _flags(text)


def test_no_longer_tingling_in_the_arm_is_a_denial_not_a_numb_arm():
    reply = reading.read("2, ya no siento hormigueo en la mano", "es")
    assert reply.numbness is False and not reply.flags and reply.unaccounted == ()


def test_ya_no_is_no_exercise_report():
    assert not reading.read("2, ya no me duele el pecho", "es").done


@pytest.mark.parametrize(
    "text, flag",
    [
        ("2 N, el parque lleno de hojas caídas", "fall_accident"),
        ("3 N, en la pelicula de un choque lloré", "fall_accident"),
        ("2 N, se me cayó la llamada, perdón", "weakness"),
        ("3 N, qué rica temperatura hay afuera", "fever"),
        ("2 N, los niños tienen fiebre, yo bien", "fever"),
    ],
)
def test_everyday_senses_and_other_peoples_fever_raise_no_flag(text, flag):
    assert flag not in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "3 N, las rodillas cansadas de tanto andar en el mercado",
        "2 N, me puse una compresa en el cuello y se siente el calorcito",
        "2 N, me tomé un cafecito caliente",
        "2 N, fuimos a ver a mi compadre al hospital",
        "2 N, me quedé de pie en la cola del banco",
        "3 N, mi gatito está enfermo",
        "2 N, no podré ir a mi cita del lunes",
    ],
)
def test_chit_chat_with_one_clinical_word_leaves_nothing_for_the_clinic(text):
    assert reading.read(text, "es").unaccounted == ()
