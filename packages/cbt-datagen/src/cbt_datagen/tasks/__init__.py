"""The teacher's tasks, one module each (events, assessments): the reply model, the prompt
template, the requests, the record built from a reply, the quality check and, where a task
has one, the consensus over samples. The engine runs any of them through any provider."""
