ALTER TABLE `tokens` ADD `namespace_uids` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
-- Tokens issued before bindings existed are bound to their namespaces as they exist now; a
-- namespace that does not exist now is bound to no uid, so such a token is refused (it
-- could not be issued today either).
UPDATE `tokens` SET `namespace_uids` = (
    SELECT json_group_object(j.value, COALESCE(n.uid, ''))
    FROM json_each(`tokens`.`namespaces`) j LEFT JOIN `namespaces` n ON n.name = j.value
  )
  WHERE `namespaces` <> '["*"]';--> statement-breakpoint
-- `admin` is the name the root credential acts under (in the audit); a token of that name
-- from before it was reserved is revoked.
DELETE FROM `tokens` WHERE `name` = 'admin';
