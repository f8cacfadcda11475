-- The SQL floor of the recompute: one statement that computes, for every project, the colour,
-- the reasons (in their order), needs_plan and the baseline colour that the rules
-- (warnings/rules.py) give as of %(today)s. bench/floor.py times it and checks that it agrees
-- with the stored results on every row; the recompute's time divided by this one's is how far
-- the Python service is from what the database alone could do.
--
-- It covers what the bench data uses: calendar days (no working-day calendar), the policy's
-- due-soon window and red threshold with each milestone type's overrides, derived due dates
-- (standard days after the previous applicable milestone's actual date), escalations, and
-- overdue coordination items left out (the policy's default). bench/floor.py refuses a policy
-- outside that.
WITH types AS (
    SELECT t.id, t."order", t.code, t.name, t.standard_days,
           CASE WHEN t.yellow_window_disabled THEN NULL
                ELSE COALESCE(t.yellow_before_days, %(yellow)s::integer) END AS yellow,
           COALESCE(t.red_after_days, %(red)s::integer) AS red
    FROM projects_milestonetype t
),
-- Every catalogue type of every active project, its stored row where it has one; a type
-- with no row is a blank milestone. Not-applicable milestones drop out here, so `lag`
-- below finds the previous applicable one.
slots AS (
    SELECT p.id AS project_id, ty."order", ty.code, ty.name, ty.standard_days, ty.yellow, ty.red,
           m.planned_date, COALESCE(m.baseline_date, m.planned_date) AS first_plan,
           CASE WHEN m.actual_date <= %(today)s::date THEN m.actual_date END AS actual
    FROM projects_project p
    CROSS JOIN types ty
    LEFT JOIN projects_milestone m ON m.project_id = p.id AND m.milestone_type_id = ty.id
    WHERE p.state = 'active' AND NOT COALESCE(m.not_applicable, FALSE)
),
dues AS (
    SELECT s.*,
           COALESCE(s.planned_date, prev_actual + s.standard_days) AS due,
           COALESCE(s.first_plan, prev_actual + s.standard_days) AS baseline_due
    FROM (
        SELECT slots.*, lag(actual) OVER (PARTITION BY project_id ORDER BY "order") AS prev_actual
        FROM slots
    ) s
),
milestones AS (
    SELECT d.project_id, d."order", d.code, d.name,
           CASE WHEN d.actual IS NOT NULL THEN 'done' WHEN d.due IS NULL THEN 'unscheduled'
                ELSE 'pending' END AS status,
           CASE WHEN d.actual IS NOT NULL THEN 1
                WHEN d.due IS NULL THEN 0
                WHEN %(today)s::date <= d.due THEN
                    CASE WHEN d.yellow IS NOT NULL AND d.due - %(today)s::date <= d.yellow THEN 2 ELSE 1 END
                WHEN %(today)s::date - d.due > d.red THEN 3
                ELSE 2 END AS rank,
           CASE WHEN d.actual IS NOT NULL OR d.due IS NULL THEN NULL
                WHEN %(today)s::date <= d.due THEN
                    CASE WHEN d.yellow IS NOT NULL AND d.due - %(today)s::date <= d.yellow THEN 'due_soon' END
                ELSE 'overdue' END AS kind,
           abs(%(today)s::date - d.due) AS days,
           CASE WHEN d.actual IS NOT NULL THEN 1
                WHEN d.baseline_due IS NULL THEN 0
                WHEN %(today)s::date <= d.baseline_due THEN
                    CASE WHEN d.yellow IS NOT NULL AND d.baseline_due - %(today)s::date <= d.yellow THEN 2 ELSE 1 END
                WHEN %(today)s::date - d.baseline_due > d.red THEN 3
                ELSE 2 END AS baseline_rank
    FROM dues d
),
escalations AS (
    SELECT e.id, e.project_id, e.reason, CASE e.colour WHEN 'red' THEN 3 ELSE 2 END AS rank
    FROM warnings_escalation e
    WHERE e.until >= %(today)s::date AND e.colour IN ('yellow', 'red')
),
reasons AS (
    SELECT project_id, rank, kind, days, code, name, '' AS note, "order", 0 AS seq
    FROM milestones WHERE kind IS NOT NULL
    UNION ALL
    SELECT project_id, rank, 'escalated', 0, '', '', reason, 0, id FROM escalations
),
per_project AS (
    SELECT project_id,
           max(rank) AS rank,
           max(baseline_rank) AS baseline_rank,
           (array_agg(status ORDER BY "order") FILTER (WHERE status IN ('pending', 'unscheduled')))[1]
               = 'unscheduled' AS needs_plan
    FROM milestones GROUP BY project_id
),
per_project_reasons AS (
    SELECT project_id,
           jsonb_agg(
               jsonb_build_object(
                   'colour', CASE rank WHEN 3 THEN 'red' WHEN 2 THEN 'yellow' ELSE 'green' END,
                   'kind', kind, 'days', days, 'milestone', code, 'name', name, 'note', note
               )
               -- Red first; escalations head their colour; most overdue first (days left
               -- count as negative); then catalogue order.
               ORDER BY rank DESC, kind <> 'escalated',
                        CASE WHEN kind = 'overdue' THEN -days ELSE days END, "order", seq
           ) AS reasons
    FROM reasons GROUP BY project_id
),
per_project_escalation AS (
    SELECT project_id, max(rank) AS rank FROM escalations GROUP BY project_id
)
SELECT p.id,
       CASE WHEN p.state <> 'active' THEN ''
            ELSE (ARRAY['green', 'yellow', 'red'])[greatest(1, pp.rank, pe.rank)] END AS colour,
       CASE WHEN p.state <> 'active' THEN '[]'::jsonb ELSE COALESCE(pr.reasons, '[]'::jsonb) END AS reasons,
       p.state = 'active' AND COALESCE(pp.needs_plan, FALSE) AS needs_plan,
       CASE WHEN p.state <> 'active' THEN ''
            ELSE (ARRAY['green', 'yellow', 'red'])[greatest(1, pp.baseline_rank, pe.rank)] END AS baseline_colour
FROM projects_project p
LEFT JOIN per_project pp ON pp.project_id = p.id
LEFT JOIN per_project_reasons pr ON pr.project_id = p.id
LEFT JOIN per_project_escalation pe ON pe.project_id = p.id
