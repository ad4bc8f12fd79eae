// The hello plugin's frontend part: a card in the account app's Profile section.
export function register(host) {
  host.addCard("profile", {
    id: "hello",
    title: "Hello",
    render() {
      const card = host.h("p", {}, "…");
      host.api.get("/v1/hello").then(
        (greeting) => { card.textContent = `${greeting.message} Sign-ins: ${greeting.sign_ins}.`; },
        () => { card.textContent = "The greeting is unavailable."; },
      );
      return card;
    },
  });
}
