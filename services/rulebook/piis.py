"""Rules of the piis area (see services/rulebook/__init__.py).

The individualised social-integration project (law of 26 May 2002 art. 11),
its sanction (art. 30 §2), its deadlines, the socio-professional trajectory
and social activation.
"""

from __future__ import annotations

from services.rulebook import Rule

_FILE = "services.piis.domain:PiisFile"
_TRAJECTORY = "services.piis.trajectory:TrajectoryFile"
_TESTS = "tests/piis/test_application.py"
_ACTIVATION_TESTS = "tests/piis/test_social_activation.py"
_DEADLINE_TESTS = "tests/piis/test_deadlines.py"
_LIFECYCLE = "docs/domain/piis.md#piis-lifecycle"
_NOTICE = "docs/domain/sanctions.md#notice-and-hearing"
_PHASES = "docs/domain/trajectory-and-activation.md#phase-changes"
_ACTIVATION = (
    "docs/domain/trajectory-and-activation.md#social-activation-trajectory-local-rule"
)
_REPORT = "docs/domain/trajectory-and-activation.md#annual-social-activation-report"
_KORTRIJK = (
    "Local practice of the CPAS of Kortrijk for social-activation trajectories, "
    "applied by the hub to every CPAS"
)
_ISP = (
    "Hub rule on the structured trajectory of the CPAS of Molenbeek-Saint-Jean "
    "(a local practice): each file sits in exactly one phase"
)
_ART30_2 = "Law of 26 May 2002 art. 30 §2"

RULES: tuple[Rule, ...] = (
    Rule(
        code="piis.end_before_start",
        statement=(
            "A PIIS proposed, or amended, with a planned end on or before its start "
            "is refused."
        ),
        source=(
            "Law of 26 May 2002 art. 11: a PIIS states its duration (the order of "
            "the dates is a hub rule)"
        ),
        enforced_by=(f"{_FILE}.propose", f"{_FILE}.amend"),
        tests=(
            f"{_TESTS}::test_a_piis_ending_on_or_before_its_start_is_refused_law_26_may_2002_art_11",
        ),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="piis.already_active",
        statement=(
            "A PIIS cannot be proposed or signed while another is in force (409); "
            "drafts may wait side by side. End the first, then sign the next."
        ),
        source=(
            "Hub rule: a PIIS's evaluations, notices, sanctions and subsidy belong "
            "to the one in force"
        ),
        enforced_by=(f"{_FILE}._none_in_force",),
        tests=(
            f"{_TESTS}::test_a_second_active_piis_is_refused",
            f"{_TESTS}::test_one_piis_in_force_at_signature_a_second_draft_signed_is_refused",
        ),
        kind="conflict",
        doc="docs/domain/piis.md#one-piis-in-force-at-a-time",
    ),
    Rule(
        code="piis.not_proposed",
        statement=(
            "Signing a PIIS id that was never proposed on the case, or that is "
            "already signed, is refused."
        ),
        source="Hub rule: a PIIS is signed as it was proposed, once",
        enforced_by=(f"{_FILE}.sign",),
        tests=(f"{_TESTS}::test_only_a_proposed_piis_not_yet_signed_can_be_signed",),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="piis.no_bilan",
        statement=(
            "A PIIS signed without a bilan of the case dated on or before the "
            "signature is refused."
        ),
        source=(
            "Law of 26 May 2002 art. 11 and royal decree of 11 July 2002 art. 11 "
            "§1: the CPAS assesses the person's needs before concluding the contract"
        ),
        enforced_by=(
            f"{_FILE}.check_bilan",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_a_piis_signed_before_any_bilan_is_refused_naming_its_source",
            "tests/integration/test_piis_flow.py::test_a_piis_is_signed_once_the_bilan_reached_the_piis_service",
            "tests/audit/test_grid.py::test_ar_11_july_2002_art11_a_piis_signed_before_its_bilan_is_a_finding",
        ),
        doc="docs/domain/income-right.md#bilan-before-the-piis",
    ),
    Rule(
        code="piis.signed_before_proposal",
        statement="A PIIS signed before the day it was proposed is refused, waiver or not.",
        source="Hub rule: the reflection period starts with the proposal",
        enforced_by=(f"{_FILE}._check_reflection",),
        tests=(
            f"{_TESTS}::test_a_piis_signed_before_it_was_proposed_is_refused_even_with_a_waiver",
        ),
        doc="docs/domain/income-right.md#reflection-period-of-5-working-days",
    ),
    Rule(
        code="piis.reflection_period",
        statement=(
            "A PIIS signed before the working days of the reflection period (five) "
            "have passed since its proposal "
            "(Monday to Friday without the ten legal public holidays; the proposal "
            "day not counted, so a Monday's proposal is signed from the next "
            "Monday) is refused unless the person waives the period."
        ),
        source=(
            "Royal decree of 11 July 2002 art. 11: five working days to think the "
            "proposal over (figure by date: services/common/data/law_figures.csv; "
            "whether the law of 26 May 2002 sets them instead is not verified); "
            "public holidays by the royal decree of 18 April 1974"
        ),
        enforced_by=(f"{_FILE}._check_reflection",),
        tests=(
            f"{_TESTS}::test_a_piis_signed_inside_the_reflection_period_is_refused",
        ),
        doc="docs/domain/income-right.md#reflection-period-of-5-working-days",
    ),
    Rule(
        code="piis.waiver_without_reason",
        statement=(
            "A signature that waives the reflection period without the person's "
            "reason is refused."
        ),
        source=(
            "Hub rule: the waiver is recorded with its reason (whether the law "
            "allows waiving the period is not verified)"
        ),
        enforced_by=(f"{_FILE}.sign",),
        tests=(f"{_TESTS}::test_a_waiver_without_its_reason_is_refused",),
        doc="docs/domain/income-right.md#reflection-period-of-5-working-days",
    ),
    Rule(
        code="piis.none_active",
        statement=(
            "An evaluation, amendment, end or notice on a case with no PIIS in "
            "force is refused."
        ),
        source="Hub rule: every action on a PIIS needs one in force",
        enforced_by=(f"{_FILE}._active_piis",),
        tests=(
            f"{_TESTS}::test_an_evaluation_needs_a_signed_piis",
            f"{_TESTS}::test_an_amendment_without_an_active_piis_is_refused",
        ),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="piis.before_signature",
        statement=(
            "An evaluation, amendment, end or notice dated before the signature of "
            "the PIIS in force is refused."
        ),
        source="Hub rule: a PIIS is acted on from its signature",
        enforced_by=(f"{_FILE}._active_piis",),
        tests=(
            f"{_TESTS}::test_an_action_on_a_piis_dated_before_its_signature_is_refused",
        ),
        doc=_LIFECYCLE,
    ),
    Rule(
        code="piis.evaluation_in_future",
        statement=(
            "An evaluation dated after the command's date is refused: the "
            "evaluations a PIIS must have are those held."
        ),
        source=(
            "Royal decree of 11 July 2002 art. 11 as amended on 3 October 2016 (the "
            "evaluations held count), ADR 0019"
        ),
        enforced_by=(f"{_FILE}.evaluate",),
        tests=(
            f"{_DEADLINE_TESTS}::test_royal_decree_art11_evaluation_in_the_future_is_refused",
            "tests/integration/test_piis_flow.py::test_a_piis_is_signed_once_the_bilan_reached_the_piis_service",
        ),
        doc="docs/domain/income-right.md#evaluations-3-a-year-2-in-person",
    ),
    Rule(
        code="piis.exemption_with_active_piis",
        statement=(
            "An exemption for health or equity reasons is refused while a PIIS is "
            "in force: end the PIIS first."
        ),
        source=(
            "Law of 26 May 2002 art. 11: the CPAS may dispense the person from the "
            "PIIS for health or equity reasons (the paragraph is not verified)"
        ),
        enforced_by=(f"{_FILE}.grant_exemption",),
        tests=(
            f"{_TESTS}::test_art11_no_exemption_for_health_or_equity_while_a_piis_is_in_force",
        ),
        doc="docs/domain/income-right.md#piis-exemption-for-health-or-equity",
    ),
    Rule(
        code="piis.none",
        statement=(
            "Reading the PIIS file of a case the PIIS service knows but on which "
            "nothing was recorded yet (no proposal, exemption or social-activation "
            "trajectory) answers 404."
        ),
        source="Hub rule: every answer declared, the 404 included, ADR 0015",
        enforced_by=("services.piis.api:create_api",),
        tests=(
            f"{_TESTS}::test_a_case_with_no_piis_or_trajectory_yet_answers_404_naming_which",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
    Rule(
        code="sanction.no_notice",
        statement=(
            "A hearing or a PIIS sanction without an open formal notice (mise en "
            "demeure) on the PIIS in force is refused. A sanction closes the "
            "notice: the next sanction needs a new one."
        ),
        source=f"{_ART30_2}: a sanction follows a formal notice",
        enforced_by=(
            f"{_FILE}._notice",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_a_sanction_without_a_prior_notice_is_refused",
            "tests/audit/test_grid.py::test_law_26_may_2002_art30_par2_a_sanction_without_notice_hearing_or_too_long_is_a_finding",
        ),
        doc="docs/domain/sanctions.md#art-30-2-piis-sanction",
    ),
    Rule(
        code="sanction.hearing_before_notice",
        statement="A hearing dated before the open notice it answers is refused.",
        source=f"{_ART30_2}: the notice warns of the right to be heard",
        enforced_by=(f"{_FILE}.hold_hearing",),
        tests=(f"{_TESTS}::test_art30_par2_a_hearing_before_its_notice_is_refused",),
        doc=_NOTICE,
    ),
    Rule(
        code="sanction.no_hearing",
        statement=(
            "A PIIS sanction is refused unless the person was offered a hearing "
            "after the notice, recorded (attended or not) on or before the decision."
        ),
        source=(
            f"{_ART30_2} and the person's right to be heard before the decision "
            "(the article that grants the hearing is not verified)"
        ),
        enforced_by=(
            f"{_FILE}.decide_sanction",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_a_sanction_without_a_hearing_is_refused",
            "tests/audit/test_grid.py::test_law_26_may_2002_art30_par2_a_sanction_without_notice_hearing_or_too_long_is_a_finding",
        ),
        doc=_NOTICE,
    ),
    Rule(
        code="sanction.too_long",
        statement=(
            "A PIIS sanction of other than 1 month is refused, or of other than 1 "
            "to 3 months on a repeat (decided within twelve calendar months of an "
            "earlier PIIS sanction of the case, the anniversary included); its "
            "months run from the first day of the second month after the decision. "
            "Figures by date: services/common/data/law_figures.csv."
        ),
        source=f"{_ART30_2}: at most one month, three on a repeat within one year",
        enforced_by=(
            f"{_FILE}.decide_sanction",
            "services.common.sanctions:limit_for",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_TESTS}::test_a_first_sanction_longer_than_one_month_is_refused",
            f"{_TESTS}::test_art30_par2_repeat_within_one_year_is_counted_in_months_not_365_days",
            f"{_TESTS}::test_art30_par2_a_sanction_after_one_year_is_a_first_one_again",
            "tests/audit/test_grid.py::test_law_26_may_2002_art30_par2_a_sanction_without_notice_hearing_or_too_long_is_a_finding",
        ),
        doc="docs/domain/sanctions.md#art-30-2-repeat-within-1-year",
    ),
    Rule(
        code="sanction.partial_percent",
        statement=(
            "A PIIS sanction or a payment suspension that is partial without the "
            "share of the payment suspended (1 to 99 %), or full with a share, is "
            "refused."
        ),
        source=(
            "Law of 26 May 2002 art. 30 §1 and §2: payment is suspended fully or partly"
        ),
        enforced_by=(
            "services.common.sanctions:check_extent",
            f"{_FILE}.decide_sanction",
            "services.intake.domain:Beneficiary.suspend_income_payment",
        ),
        tests=(
            f"{_TESTS}::test_art30_par2_a_partial_sanction_needs_its_share_and_only_it",
            "tests/intake/test_art30_suspensions.py::test_art30_a_partial_suspension_states_its_share",
        ),
        doc="docs/domain/sanctions.md#full-or-partial-suspension",
    ),
    Rule(
        code="deadline.piis_not_signed",
        statement=(
            "Each grant of the income that makes a PIIS compulsory (under 25, "
            "student, or a new beneficiary since 1 November 2016) is due three "
            "months after its decision (the month's last day when shorter). Met by "
            "the first PIIS signed on or after the decision and before the next "
            "grant, within the months, or by an exemption decided for that grant; a "
            "grant withdrawn on or before its due date is not due. Unmet, the daily "
            "watch records PiisDeadlineMissed once, with the grant's right; a PIIS "
            "signed after the due date is recorded once more, with its signature "
            "date. Flagged, not refused."
        ),
        source=(
            "Law of 26 May 2002 art. 11 as amended by the law of 21 July 2016: a "
            "compulsory PIIS is concluded within three months of the decision "
            "granting the income (the paragraph is not verified)"
        ),
        enforced_by=(
            "services.piis.deadlines:signature_deadlines",
            f"{_FILE}.missed_deadlines",
            f"{_FILE}.flag",
            "services.piis.application:PiisApplication.watch_deadlines",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_DEADLINE_TESTS}::test_an_unsigned_compulsory_piis_is_flagged_once_the_day_after_three_months",
            f"{_DEADLINE_TESTS}::test_art11_withdrawn_grant_is_not_flagged",
            f"{_DEADLINE_TESTS}::test_art11_a_piis_signed_after_three_months_is_flagged_once_as_late",
            f"{_DEADLINE_TESTS}::test_art11_an_exemption_answers_only_the_grant_it_was_decided_for",
            "tests/audit/test_grid.py::test_law_26_may_2002_art11_a_grant_without_piis_in_three_months_is_a_finding",
        ),
        kind="flag",
        doc="docs/domain/income-right.md#piis-within-3-months",
    ),
    Rule(
        code="deadline.evaluations_missing",
        statement=(
            "Every twelve months of a PIIS's life, on a rolling basis (a window "
            "from a day of the PIIS to the same day twelve months later, both "
            "included), holds at least 3 evaluations, 2 of them in an individual "
            "interview. The first window it lived through short of them is "
            "recorded as PiisDeadlineMissed for its caseworker and the search goes "
            "on from that window's last day; a PIIS that ended before a whole "
            "window is judged pro rata on the whole months it lived (one "
            "evaluation per four, one in person per six). Flagged, not refused."
        ),
        source=(
            "Royal decree of 11 July 2002 as amended by the royal decree of "
            "3 October 2016: at least three evaluations a year, two of them in an "
            "individual interview (the article is not verified)"
        ),
        enforced_by=(
            "services.piis.deadlines:evaluation_deadlines",
            f"{_FILE}.missed_deadlines",
            f"{_FILE}.flag",
            "services.piis.application:PiisApplication.watch_deadlines",
            "services.audit.grid:control_grid",
        ),
        tests=(
            f"{_DEADLINE_TESTS}::test_too_few_evaluations_in_the_first_year_are_flagged_for_the_caseworker",
            f"{_DEADLINE_TESTS}::test_royal_decree_art11_evaluations_are_counted_over_rolling_twelve_months",
            f"{_DEADLINE_TESTS}::test_royal_decree_art11_piis_ended_before_its_first_year_is_judged_pro_rata",
            "tests/audit/test_grid.py::test_royal_decree_11_july_2002_art11_a_year_short_of_evaluations_is_a_finding",
        ),
        kind="flag",
        doc="docs/domain/income-right.md#evaluations-3-a-year-2-in-person",
    ),
    Rule(
        code="social_activation.already_active",
        statement=(
            "A social-activation trajectory cannot start while the case follows "
            "another (409), unless that one lapsed: not closed by its last possible "
            "final measurement (one evaluation interval, three months, after its "
            "planned end), that day past and the new one starting after it."
        ),
        source=_KORTRIJK,
        enforced_by=(f"{_FILE}.start_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_activation_not_closed_in_time_lapses_and_another_may_start",
        ),
        kind="conflict",
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.end_before_start",
        statement="A social-activation trajectory planned to end on or before its start is refused.",
        source=_KORTRIJK,
        enforced_by=(f"{_FILE}.start_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_kortrijk_a_trajectory_ends_after_it_starts",
        ),
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.too_long",
        statement=(
            "A social-activation trajectory planned to end after the day before the "
            "same date twelve months after its start is refused (figure by date: "
            "services/common/data/law_figures.csv)."
        ),
        source=f"{_KORTRIJK}: a trajectory lasts at most one year",
        enforced_by=(f"{_FILE}.start_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_a_trajectory_longer_than_twelve_months_is_refused",
            f"{_ACTIVATION_TESTS}::test_a_trajectory_of_twelve_months_is_accepted",
        ),
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.no_baseline",
        statement=(
            "A social-activation trajectory cannot start without a bilan with "
            "baseline scores completed on or before its start: progress is "
            "measured against the latest such bilan, the one that opens it."
        ),
        source=f"{_KORTRIJK}: a trajectory starts with a bilan social, its zero measure",
        enforced_by=(f"{_FILE}.start_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_without_a_bilan_baseline_there_is_nothing_to_measure_against",
            f"{_ACTIVATION_TESTS}::test_activation_without_a_bilan_before_its_start_has_no_baseline",
        ),
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.none_active",
        statement="An evaluation on a case with no social-activation trajectory is refused.",
        source=_KORTRIJK,
        enforced_by=(f"{_FILE}.evaluate_social_activation",),
        tests=(f"{_ACTIVATION_TESTS}::test_kortrijk_an_evaluation_needs_a_trajectory",),
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.outside_period",
        statement=(
            "An evaluation dated before the trajectory's start, or after its "
            "planned end, is refused; the final measurement may come up to one "
            "evaluation interval (three months) after the planned end."
        ),
        source=_KORTRIJK,
        enforced_by=(f"{_FILE}.evaluate_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_an_evaluation_outside_the_period_is_refused",
            f"{_ACTIVATION_TESTS}::test_activation_closable_after_its_planned_end",
        ),
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.too_many_evaluations",
        statement=(
            "A trajectory has at most four evaluations, the final measurement "
            "included: a fourth that is not final, or a fifth, is refused."
        ),
        source=f"{_KORTRIJK}: an evaluation every three months, so at most four",
        enforced_by=(f"{_FILE}.evaluate_social_activation",),
        tests=(f"{_ACTIVATION_TESTS}::test_activation_fifth_evaluation_refused",),
        doc=_ACTIVATION,
    ),
    Rule(
        code="social_activation.piis_not_in_force",
        statement=(
            "A social-activation trajectory said to be framed by a PIIS names a "
            "signed PIIS of the same case that did not end before the trajectory "
            "starts; any other PIIS id is refused (the annual report counts the "
            "trajectories framed by a PIIS from this link)."
        ),
        source=(
            "Royal decree of 27 March 2015 (social-activation conventions): the "
            "quantitative objectives count the people in a social-activation "
            "trajectory framed by a PIIS"
        ),
        enforced_by=(f"{_FILE}.start_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_rd_27_march_2015_only_a_signed_piis_of_the_case_frames_a_trajectory",
            f"{_ACTIVATION_TESTS}::test_rd_27_march_2015_a_piis_ended_before_the_trajectory_does_not_frame_it",
        ),
        doc=_REPORT,
    ),
    Rule(
        code="social_activation.outcome_only_final",
        statement=(
            "Whether the trajectory's objective was achieved, the partnerships it "
            "went through and the reason of a failure are recorded with the final "
            "measurement only; on a quarterly evaluation they are refused."
        ),
        source=(
            "Royal decree of 27 March 2015 (social-activation conventions): the "
            "qualitative objectives are reported as achieved or not, through which "
            "partnerships, and why not"
        ),
        enforced_by=(f"{_FILE}.evaluate_social_activation",),
        tests=(
            f"{_ACTIVATION_TESTS}::test_rd_27_march_2015_the_outcome_is_recorded_with_the_final_measurement_only",
        ),
        doc=_REPORT,
    ),
    Rule(
        code="trajectory.already_active",
        statement=(
            "A trajectory cannot start while the file has an active one (409), so "
            "that each file is counted in exactly one phase on any date."
        ),
        source=_ISP,
        enforced_by=(f"{_TRAJECTORY}.begin",),
        tests=(f"{_TESTS}::test_a_second_active_trajectory_is_refused",),
        kind="conflict",
        doc="docs/domain/trajectory-and-activation.md#one-active-trajectory-per-file",
    ),
    Rule(
        code="trajectory.starts_with_exit",
        statement="A trajectory that would start with an exit phase is refused.",
        source=_ISP,
        enforced_by=(f"{_TRAJECTORY}.begin",),
        tests=(f"{_TESTS}::test_a_trajectory_starts_in_a_phase_not_with_an_exit",),
        doc=_PHASES,
    ),
    Rule(
        code="trajectory.none_active",
        statement="A phase change on a file without an active trajectory is refused.",
        source=_ISP,
        enforced_by=(f"{_TRAJECTORY}.change",),
        tests=(f"{_TESTS}::test_a_phase_change_needs_an_active_trajectory",),
        doc="docs/domain/trajectory-and-activation.md#one-active-trajectory-per-file",
    ),
    Rule(
        code="trajectory.wrong_from_phase",
        statement="A phase change that does not start from the phase the file is in is refused.",
        source=_ISP,
        enforced_by=(f"{_TRAJECTORY}.change",),
        tests=(
            f"{_TESTS}::test_a_phase_change_from_a_phase_the_dossier_is_not_in_is_refused",
        ),
        doc=_PHASES,
    ),
    Rule(
        code="trajectory.same_phase",
        statement="A phase change to the phase the file is already in is refused.",
        source=_ISP,
        enforced_by=(f"{_TRAJECTORY}.change",),
        tests=(
            f"{_TESTS}::test_a_phase_change_goes_to_another_phase_not_before_the_current_began",
        ),
        doc=_PHASES,
    ),
    Rule(
        code="trajectory.before_last_change",
        statement=(
            "A phase change, or a new trajectory, taking effect before the file's "
            "latest recorded change is refused."
        ),
        source=f"{_ISP}; the history replays in date order",
        enforced_by=(f"{_TRAJECTORY}.begin", f"{_TRAJECTORY}.change"),
        tests=(
            f"{_TESTS}::test_a_phase_change_goes_to_another_phase_not_before_the_current_began",
        ),
        doc=_PHASES,
    ),
    Rule(
        code="trajectory.none",
        statement=(
            "Reading the trajectory of a case the PIIS service knows but whose file "
            "never had one answers 404."
        ),
        source="Hub rule: every answer declared, the 404 included, ADR 0015",
        enforced_by=("services.piis.api:create_api",),
        tests=(
            f"{_TESTS}::test_a_case_with_no_piis_or_trajectory_yet_answers_404_naming_which",
        ),
        kind="input",
        doc="docs/decisions/0015-truthful-openapi.md",
    ),
)
