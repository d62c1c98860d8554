// The usage table's empty state: how to make a first call.
export function FirstCall(props: { publicUrl: string }) {
  const curl = `curl ${props.publicUrl}/v1/chat/completions \\
  -H "Authorization: Bearer $TOKENTAB_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}'`;
  return (
    <div class="first-call">
      <p>
        <strong>No usage yet.</strong> Every call you make shows up here with what it cost.
      </p>
      <ol>
        <li>
          <a href="/keys">Create an API key</a>.
        </li>
        <li>
          Point any OpenAI SDK at <code>{props.publicUrl}/v1</code>, or try curl:
        </li>
      </ol>
      <pre>
        <code>{curl}</code>
      </pre>
      <p>
        Or send a prompt from the <a href="/playground">playground</a>.
      </p>
    </div>
  );
}
