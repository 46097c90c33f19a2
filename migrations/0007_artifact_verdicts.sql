-- Whether each artifact zip is safe to publish and to hand to instances (it opens as a zip, no
-- entry escapes its folder, every declared size is within the limits and holds), decided once
-- per blob like the rest of the row.
--
-- problem: why the zip is refused; null when it passed (or was never checked).
-- checks:  the version of the checks that gave `problem`; null for rows written before checks
--          existed, or by a replica still running the previous release during a rolling upgrade,
--          which knows nothing of this column and inserts rows that were never checked. Those
--          rows are checked again when next needed, and updated, instead of being trusted or
--          deleted here: deleting would not stop an old replica from writing more of them.
alter table artifacts add column problem text;
alter table artifacts add column checks integer;
