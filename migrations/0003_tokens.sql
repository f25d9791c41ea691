CREATE TABLE `tokens` (
	`name` text PRIMARY KEY NOT NULL,
	`uid` text NOT NULL,
	`hash` text NOT NULL,
	`role` text NOT NULL,
	`namespaces` text NOT NULL,
	`expires_at` text,
	`created_at` text NOT NULL,
	`created_by` text NOT NULL,
	`rv` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tokens_by_hash` ON `tokens` (`hash`);--> statement-breakpoint
ALTER TABLE `changes` ADD `actor` text DEFAULT '' NOT NULL;