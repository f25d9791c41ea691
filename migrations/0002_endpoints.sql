CREATE TABLE `endpoints` (
	`namespace` text NOT NULL,
	`service` text NOT NULL,
	`pod` text NOT NULL,
	`pod_uid` text,
	`ip` text NOT NULL,
	`family` text NOT NULL,
	`ready` integer NOT NULL,
	`serving` integer NOT NULL,
	`terminating` integer NOT NULL,
	`weight` integer NOT NULL,
	`hostname` text,
	`node_name` text,
	`zone` text,
	`ports` text NOT NULL,
	`rv` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `endpoints_by_service` ON `endpoints` (`namespace`,`service`);--> statement-breakpoint
CREATE INDEX `endpoints_by_pod` ON `endpoints` (`namespace`,`pod`);--> statement-breakpoint
CREATE INDEX `endpoints_by_ip` ON `endpoints` (`ip`);--> statement-breakpoint
CREATE TABLE `user_endpoints` (
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`uid` text NOT NULL,
	`rv` integer NOT NULL,
	`body` text NOT NULL,
	PRIMARY KEY(`namespace`, `name`)
);
--> statement-breakpoint
ALTER TABLE `services` ADD `endpoints_rv` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `pods_by_deletion` ON `pods` (`deletion_timestamp`);