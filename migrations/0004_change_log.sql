ALTER TABLE `changes` ADD `object` text;--> statement-breakpoint
ALTER TABLE `changes` ADD `old_object` text;--> statement-breakpoint
-- Rows written before this migration carry no object: they count as compacted, so a watch
-- or catch-up from before now re-lists (410 Expired) instead of replaying empty events.
INSERT INTO `meta` (`key`, `value`) SELECT 'compactedRv', `value` FROM `meta` WHERE `key` = 'resourceVersion';
