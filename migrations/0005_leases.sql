CREATE TABLE `leases` (
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`uid` text NOT NULL,
	`rv` integer NOT NULL,
	`holder` text,
	`duration_seconds` integer,
	`renew_ms` integer,
	`expires_ms` integer,
	`body` text NOT NULL,
	PRIMARY KEY(`namespace`, `name`)
);
--> statement-breakpoint
CREATE INDEX `leases_by_expiry` ON `leases` (`expires_ms`);--> statement-breakpoint
ALTER TABLE `endpoints` ADD `lease` text;--> statement-breakpoint
ALTER TABLE `pods` ADD `lease` text;--> statement-breakpoint
ALTER TABLE `pods` ADD `lease_lapsed` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `pods_by_lease` ON `pods` (`namespace`,`lease`);--> statement-breakpoint
-- Pods that already name a lease in their annotation are bound to it from now on.
UPDATE `pods` SET `lease` = json_extract(`body`, '$.metadata.annotations."switchboard.dev/lease"')
  WHERE json_extract(`body`, '$.metadata.annotations."switchboard.dev/lease"') IS NOT NULL;--> statement-breakpoint
UPDATE `endpoints` SET `lease` = (SELECT p.`lease` FROM `pods` p WHERE p.`namespace` = `endpoints`.`namespace` AND p.`name` = `endpoints`.`pod`)
  WHERE `pod` <> '';
