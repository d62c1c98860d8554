// Billing's error pages: buying turned off, an unknown package, the provider unreachable, no such purchase.

export function PaymentsOffNotice() {
  return (
    <section class="card" role="alert">
      <h1>Buying credits is turned off</h1>
      <p>This site does not sell credits: they are granted by its operator. Ask them if you need more.</p>
      <p>
        <a href="/credits">Back to Credits</a>
      </p>
    </section>
  );
}

export function UnknownPackageNotice(props: { packageId: string }) {
  return (
    <section class="card" role="alert">
      <h1>No such package</h1>
      <p>{props.packageId ? `There is no package "${props.packageId}" on sale.` : 'Choose a package to buy.'} Nothing was charged.</p>
      <p>
        <a href="/credits#packages">See the packages</a>
      </p>
    </section>
  );
}

export function ProviderDownNotice() {
  return (
    <section class="card" role="alert">
      <h1>Checkout is not available right now</h1>
      <p>The payment provider could not be reached, so checkout did not start and nothing was charged. Please try again in a moment.</p>
      <p>
        <a href="/credits#packages">Back to the packages</a>
      </p>
    </section>
  );
}

export function PurchaseNotFoundNotice() {
  return (
    <section class="card" role="alert">
      <h1>Purchase not found</h1>
      <p>There is no such purchase on your account.</p>
      <p>
        <a href="/credits">Back to Credits</a>
      </p>
    </section>
  );
}
