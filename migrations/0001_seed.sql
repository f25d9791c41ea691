-- The registry's resourceVersion counter and the `default` namespace, present from the start.
INSERT INTO `meta` (`key`, `value`) VALUES ('resourceVersion', 1);
--> statement-breakpoint
INSERT INTO `namespaces` (`name`, `uid`, `rv`, `body`)
SELECT 'default', u.uid, 1, json_object(
  'apiVersion', 'v1', 'kind', 'Namespace',
  'metadata', json_object('name', 'default', 'uid', u.uid, 'creationTimestamp', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                          'labels', json_object('kubernetes.io/metadata.name', 'default')),
  'spec', json_object('finalizers', json_array('kubernetes')),
  'status', json_object('phase', 'Active'))
FROM (SELECT lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' ||
             substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12)) AS uid
      FROM (SELECT hex(randomblob(16)) AS h)) AS u;
--> statement-breakpoint
INSERT INTO `labels` (`kind`, `namespace`, `name`, `key`, `value`)
VALUES ('Namespace', '', 'default', 'kubernetes.io/metadata.name', 'default');
