CREATE TABLE `changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rv` integer NOT NULL,
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `changes_by_rv` ON `changes` (`rv`);--> statement-breakpoint
CREATE TABLE `cluster_ips` (
	`ip` text PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`service` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cluster_ips_by_service` ON `cluster_ips` (`namespace`,`service`);--> statement-breakpoint
CREATE TABLE `guard` (
	`code` text NOT NULL,
	CONSTRAINT "guard_missing_namespace" CHECK("guard"."code" <> 'missing_namespace'),
	CONSTRAINT "guard_not_found" CHECK("guard"."code" <> 'not_found'),
	CONSTRAINT "guard_conflict" CHECK("guard"."code" <> 'conflict'),
	CONSTRAINT "guard_exists" CHECK("guard"."code" <> 'exists')
);
--> statement-breakpoint
CREATE TABLE `labels` (
	`kind` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`kind`, `namespace`, `name`, `key`)
);
--> statement-breakpoint
CREATE INDEX `labels_by_pair` ON `labels` (`kind`,`namespace`,`key`,`value`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `namespaces` (
	`name` text PRIMARY KEY NOT NULL,
	`uid` text NOT NULL,
	`rv` integer NOT NULL,
	`body` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `node_ports` (
	`port` integer PRIMARY KEY NOT NULL,
	`namespace` text NOT NULL,
	`service` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `node_ports_by_service` ON `node_ports` (`namespace`,`service`);--> statement-breakpoint
CREATE TABLE `pod_ports` (
	`namespace` text NOT NULL,
	`pod` text NOT NULL,
	`name` text NOT NULL,
	`protocol` text NOT NULL,
	`port` integer NOT NULL,
	PRIMARY KEY(`namespace`, `pod`, `name`, `protocol`)
);
--> statement-breakpoint
CREATE TABLE `pods` (
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`uid` text NOT NULL,
	`rv` integer NOT NULL,
	`node_name` text,
	`phase` text,
	`pod_ip` text,
	`ready` integer NOT NULL,
	`weight` integer NOT NULL,
	`deletion_timestamp` text,
	`zone` text,
	`body` text NOT NULL,
	PRIMARY KEY(`namespace`, `name`)
);
--> statement-breakpoint
CREATE INDEX `pods_by_node` ON `pods` (`node_name`);--> statement-breakpoint
CREATE INDEX `pods_by_ip` ON `pods` (`pod_ip`);--> statement-breakpoint
CREATE TABLE `selectors` (
	`namespace` text NOT NULL,
	`service` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`namespace`, `service`, `key`)
);
--> statement-breakpoint
CREATE INDEX `selectors_by_pair` ON `selectors` (`namespace`,`key`,`value`);--> statement-breakpoint
CREATE TABLE `service_ports` (
	`namespace` text NOT NULL,
	`service` text NOT NULL,
	`idx` integer NOT NULL,
	`name` text NOT NULL,
	`protocol` text NOT NULL,
	`port` integer NOT NULL,
	`target_port` integer,
	`target_port_name` text,
	`app_protocol` text,
	PRIMARY KEY(`namespace`, `service`, `idx`)
);
--> statement-breakpoint
CREATE TABLE `services` (
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`uid` text NOT NULL,
	`rv` integer NOT NULL,
	`type` text NOT NULL,
	`cluster_ip` text,
	`selector_size` integer NOT NULL,
	`publish_not_ready` integer NOT NULL,
	`body` text NOT NULL,
	PRIMARY KEY(`namespace`, `name`)
);
--> statement-breakpoint
CREATE INDEX `services_by_type` ON `services` (`type`);