"""The archive's writers: recordings (`recordings`), handover, links and purge (`handover`),
materials and access requests (`materials`), and the storage (`storage`)."""
