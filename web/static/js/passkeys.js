// Passkeys on the account and login pages. A passkey ceremony needs the
// browser's WebAuthn API, so this script runs it: it asks the server for
// the options (posting the form's CSRF token, and the current password or
// the username typed), passes them to navigator.credentials, then puts
// the ceremony id and the browser's answer in the form's hidden fields
// and submits the form, which the server answers as any form post. The
// forms stay hidden where the browser has no WebAuthn. Requests go to
// this origin only.
"use strict";

(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return; // the pages say that passkeys need a browser that has them
  }

  // base64url (WebAuthn's JSON encoding of bytes) to bytes and back.
  const decode = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buf) => {
    let bin = "";
    for (const b of new Uint8Array(buf)) {
      bin += String.fromCharCode(b);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));

  // The options' JSON form (what the server sends) as the API takes them.
  const creationOptions = (o) => ({
    ...o,
    challenge: decode(o.challenge),
    user: { ...o.user, id: decode(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  });
  const requestOptions = (o) => ({
    ...o,
    challenge: decode(o.challenge),
    allowCredentials: descriptors(o.allowCredentials),
  });

  // The browser's answer in its JSON form (what the server reads).
  const answer = (cred) => {
    const r = cred.response;
    const out = {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: { clientDataJSON: encode(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = encode(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = encode(r.authenticatorData);
      out.response.signature = encode(r.signature);
      if (r.userHandle) {
        out.response.userHandle = encode(r.userHandle);
      }
    }
    return JSON.stringify(out);
  };

  // options posts fields to the options route url and returns the
  // ceremony; a refusal throws its message.
  const options = async (url, fields) => {
    const res = await fetch(url, {
      method: "POST",
      body: new URLSearchParams(fields),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    let body;
    try {
      body = await res.json();
    } catch {
      throw new Error("The page has expired. Reload it and try again.");
    }
    if (!res.ok) {
      const d = body.detail;
      throw new Error(Array.isArray(d) ? d.map((p) => p.msg).join(" ") : d);
    }
    return body;
  };

  // problem is what to tell the user when a step failed.
  const problem = (err, what) => {
    switch (err.name) {
      case "NotAllowedError":
        return `No passkey was ${what}: the browser's prompt was closed or timed out.`;
      case "InvalidStateError":
        return "This device or password manager holds one of your passkeys already.";
      case "SecurityError":
        return "The browser does not allow passkeys on this address.";
    }
    return err.message || `No passkey was ${what}.`;
  };

  const show = (el, msg) => {
    el.textContent = msg;
    el.hidden = !msg;
  };

  // The account page: adding a passkey.
  const add = document.querySelector("form[data-passkey-register]");
  if (add) {
    document.getElementById("passkey-unsupported").hidden = true;
    add.hidden = false;
    const error = document.getElementById("passkey-add-error");
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = add.querySelector("button[type=submit]");
      button.disabled = true;
      show(error, "");
      try {
        const begun = await options("/account/passkeys/options", {
          csrf_token: add.elements.csrf_token.value,
          current_password: add.elements.current_password.value,
        });
        const cred = await navigator.credentials.create({ publicKey: creationOptions(begun.options) });
        add.elements.ceremony_id.value = begun.ceremony_id;
        add.elements.credential.value = answer(cred);
        add.elements.current_password.value = ""; // the server has checked it already
        add.submit();
      } catch (err) {
        show(error, problem(err, "added"));
        button.disabled = false;
      }
    });
  }

  // The login page: logging in with a passkey.
  const login = document.querySelector("[data-passkey-login]");
  if (login) {
    login.hidden = false;
    const form = document.getElementById("passkey-login-form");
    const error = document.getElementById("passkey-login-error");
    const button = document.getElementById("passkey-login-button");
    button.addEventListener("click", async () => {
      button.disabled = true;
      show(error, "");
      try {
        const typed = document.getElementById("username");
        const begun = await options("/login/passkey/options", {
          csrf_token: form.elements.csrf_token.value,
          username: typed ? typed.value.trim() : "",
        });
        const cred = await navigator.credentials.get({ publicKey: requestOptions(begun.options) });
        form.elements.ceremony_id.value = begun.ceremony_id;
        form.elements.credential.value = answer(cred);
        form.submit();
      } catch (err) {
        show(error, problem(err, "used"));
        button.disabled = false;
      }
    });
  }
})();
