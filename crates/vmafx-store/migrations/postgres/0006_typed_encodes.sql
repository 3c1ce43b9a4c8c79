-- Encode jobs are typed fields now, no longer ffmpeg arguments: a stored job of the old form
-- keeps its place but loses its arguments (an encode spec refuses unknown fields), and the
-- node that gets it fails it for good, saying to submit it again.
UPDATE jobs SET spec = ((spec::jsonb) #- '{encode,args}')::text
WHERE (spec::jsonb) #> '{encode,args}' IS NOT NULL;
