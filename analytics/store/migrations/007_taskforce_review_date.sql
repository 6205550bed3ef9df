-- Version 7: a task force's planned exit-review date (撤出评估日期), from its import file or set by
-- an analyst; empty means the start date plus the exit rule's months (analytics.services.taskforces.deadlines).
ALTER TABLE task_forces ADD COLUMN IF NOT EXISTS review_date DATE;
