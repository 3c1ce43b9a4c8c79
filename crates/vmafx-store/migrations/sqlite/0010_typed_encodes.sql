-- Encode jobs are typed fields now, no longer ffmpeg arguments: a stored job of the old form
-- keeps its place but loses its arguments (an encode spec refuses unknown fields), and the
-- node that gets it fails it for good, saying to submit it again.
UPDATE jobs SET spec = json_remove(spec, '$.encode.args')
WHERE json_extract(spec, '$.encode.args') IS NOT NULL;
