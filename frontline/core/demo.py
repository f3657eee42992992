"""Demo data: an outdoor-gear shop's customer service, seeded through the real services.

`build_plan()` is pure: from a seed it decides every user, customer, order and ticket, with
its whole conversation and timestamps (as "minutes before now"). `apply_plan()` then writes it
through the domain services: customers via `customer_create`/`identity_add`/`order_create`,
every customer message via the ingest service (so dedupe, customer resolution and threading
are exercised), agent replies and notes via `message_add`, field and status changes via
`ticket_update`. Rows are then backdated so the data looks like two months of real work.

Idempotent: customers are found again by their email identity, orders by number, and each
ticket by the provider message id of its first customer message (`demo-<n>`), which the
ingest service dedupes: a second run writes nothing.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import struct
import time
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from frontline.accounts.models import AgentProfile, Role, Team, User
from frontline.accounts.services import (
    agent_presence_set,
    agent_profile_update,
    team_create,
    user_create,
)
from frontline.channels.accounts import account_create
from frontline.channels.models import MessageTemplate, MessagingAccount
from frontline.channels.services import inbound_message_ingest, mailbox_ensure
from frontline.channels.types import (
    THREAD_BY_CUSTOMER,
    Channel,
    InboundAttachment,
    InboundMessage,
    SenderIdentity,
)
from frontline.core import bus
from frontline.core.errors import Conflict
from frontline.core.models import DomainEvent
from frontline.customers.models import (
    Customer,
    CustomerEvent,
    Identity,
    Order,
    Organisation,
    Tier,
)
from frontline.customers.selectors import customer_by_identity
from frontline.customers.services import (
    IdentityInput,
    customer_create,
    customer_organisation_add,
    customer_portal_user_set,
    identity_add,
    order_create,
    organisation_create,
)
from frontline.tickets import services as ticket_services
from frontline.tickets.actors import Actor
from frontline.tickets.lifecycle import ACTIVE, Status
from frontline.tickets.models import (
    Attachment,
    DeliveryState,
    Message,
    Ticket,
    TicketEvent,
    Visibility,
)

DEMO_PREFIX = "demo-"
DEFAULT_PASSWORD = "frontline-demo"  # noqa: S105 (public, documented demo password)
ADMIN_USERNAME = "admin"
STORE = "Trailpeak Outfitters"
STAFF_DOMAIN = "trailpeak.example"
DAY = 24 * 60.0  # minutes

# ----------------------------------------------------------------------------------------------
# Content: people, places, products
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locale:
    code: str
    language: str
    country: str
    currency: str
    weight: int
    phones: tuple[str, ...]  # patterns, "#" is a random digit
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[str, ...]
    us_sizes: bool = False


LOCALES: tuple[Locale, ...] = (
    Locale(
        "en-US", "en", "US", "USD", 14,
        ("+1415555####", "+1206555####", "+1303555####", "+1503555####", "+1828555####"),
        ("James", "Emily", "Michael", "Sarah", "David", "Jessica", "Chris", "Ashley", "Tyler",
         "Megan", "Brandon", "Lauren", "Kevin", "Rachel", "Jordan", "Olivia", "Ethan", "Hannah"),
        ("Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
         "Moore", "Jackson", "Harris", "Clark", "Lewis", "Walker", "Young", "Carter"),
        ("Denver", "Seattle", "Portland", "Boulder", "Salt Lake City", "Asheville"),
        us_sizes=True,
    ),
    Locale(
        "en-GB", "en", "GB", "GBP", 6,
        ("+447700900###",),
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Poppy", "Jack", "Freya", "Charlie",
         "Imogen"),
        ("Smith", "Jones", "Evans", "Roberts", "Hughes", "Wright", "Edwards", "Hall", "Green",
         "Wood"),
        ("Manchester", "Edinburgh", "Bristol", "Keswick", "Leeds"),
    ),
    Locale(
        "es-ES", "es", "ES", "EUR", 5,
        ("+346########",),
        ("Lucía", "Javier", "Carmen", "Alejandro", "María", "Pablo", "Elena", "Álvaro", "Marta",
         "Sergio"),
        ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz",
         "Moreno", "Muñoz", "Romero"),
        ("Madrid", "Barcelona", "Granada", "Bilbao", "Valencia"),
    ),
    Locale(
        "es-MX", "es", "MX", "MXN", 4,
        ("+5255########", "+5233########"),
        ("Ximena", "Diego", "Valeria", "Santiago", "Fernanda", "Emiliano", "Regina", "Mateo",
         "Camila", "Leonardo"),
        ("Hernández", "González", "Ramírez", "Flores", "Torres", "Cruz", "Morales", "Reyes",
         "Jiménez", "Vargas"),
        ("Ciudad de México", "Guadalajara", "Monterrey", "Puebla"),
    ),
    Locale(
        "de-DE", "de", "DE", "EUR", 6,
        ("+49151########", "+49160#######", "+49171#######"),
        ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Maximilian", "Sophie", "Tobias",
         "Julia", "Jürgen", "Katrin"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Hoffmann", "Schäfer", "Koch", "Krüger"),
        ("München", "Berlin", "Freiburg", "Hamburg", "Garmisch-Partenkirchen"),
    ),
    Locale(
        "de-AT", "de", "AT", "EUR", 2,
        ("+43664#######", "+43676#######"),
        ("Florian", "Johanna", "Matthias", "Theresa", "Stefan", "Verena"),
        ("Gruber", "Huber", "Bauer", "Pichler", "Steiner", "Moser", "Hofer"),
        ("Innsbruck", "Wien", "Salzburg", "Graz"),
    ),
    Locale(
        "fr-FR", "fr", "FR", "EUR", 5,
        ("+336########", "+337########"),
        ("Léa", "Hugo", "Chloé", "Louis", "Manon", "Théo", "Camille", "Antoine", "Élodie",
         "Julien", "Inès", "Mathis"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Lefèvre", "Girard"),
        ("Lyon", "Chamonix", "Grenoble", "Paris", "Annecy"),
    ),
    Locale(
        "fr-CA", "fr", "CA", "CAD", 2,
        ("+1514555####", "+1418555####"),
        ("Gabriel", "Émilie", "Félix", "Florence", "Samuel", "Maude"),
        ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Lavoie", "Bélanger"),
        ("Montréal", "Québec", "Sherbrooke"),
        us_sizes=True,
    ),
    Locale(
        "pt-PT", "pt", "PT", "EUR", 2,
        ("+3519########",),
        ("João", "Inês", "Tiago", "Beatriz", "Rui", "Mariana", "Gonçalo", "Catarina"),
        ("Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins"),
        ("Lisboa", "Porto", "Braga"),
    ),
    Locale(
        "pt-BR", "pt", "BR", "BRL", 4,
        ("+55119########", "+55219########", "+55489########"),
        ("Lucas", "Ana", "Gabriel", "Juliana", "Rafael", "Larissa", "Thiago", "Fernanda",
         "Bruno", "Letícia"),
        ("Souza", "Lima", "Carvalho", "Almeida", "Ribeiro", "Gomes", "Barbosa", "Rocha",
         "Araújo", "Nascimento"),
        ("São Paulo", "Rio de Janeiro", "Florianópolis", "Curitiba"),
    ),
)  # fmt: skip

# Reserved `.example` domains: nothing seeded here can ever email a real person.
PERSONAL_DOMAINS = ("mail.example", "inbox.example", "post.example", "webmail.example")

# USD -> local currency, for prices.
RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CAD": 1.36, "MXN": 17.0, "BRL": 5.0}


@dataclass(frozen=True)
class Product:
    name: str
    sku: str
    usd: int
    sizing: str = ""  # "", "apparel" or "shoes"


PRODUCTS: tuple[Product, ...] = (
    Product("Ridgeline 45L Backpack", "BP-RDG-45", 189),
    Product("Ridgeline 30L Daypack", "BP-RDG-30", 129),
    Product("Alpine Down Jacket", "JK-ALP-DWN", 279, "apparel"),
    Product("Stormproof Rain Shell", "JK-STM-SHL", 219, "apparel"),
    Product("Trailblazer GTX Hiking Boots", "FW-TRB-GTX", 199, "shoes"),
    Product("Skyline Trail Running Shoes", "FW-SKY-TRL", 139, "shoes"),
    Product("Summit 2P Tent", "TN-SUM-2P", 349),
    Product("Basecamp 4P Tent", "TN-BSC-4P", 529),
    Product("Featherlite -5C Sleeping Bag", "SB-FTH-M5", 239),
    Product("Inflatable Sleeping Pad", "SP-INF-R4", 99),
    Product("Carbon Trekking Poles (pair)", "AC-CRB-POL", 119),
    Product("Merino Base Layer Top", "BL-MER-TOP", 79, "apparel"),
    Product("Fleece Midlayer Hoodie", "ML-FLC-HD", 89, "apparel"),
    Product("Headlamp 400 lm", "AC-HDL-400", 49),
    Product("Insulated Bottle 1L", "AC-BTL-1L", 35),
    Product("Mini Camp Stove", "CK-STV-MIN", 69),
    Product("Dry Bag 20L", "AC-DRY-20", 29),
    Product("Vertex Climbing Harness", "CL-HRN-VTX", 89, "apparel"),
)


@dataclass(frozen=True)
class OrgSpec:
    name: str
    domain: str
    country: str
    shared_tickets: bool
    notes: str


ORGANISATIONS: tuple[OrgSpec, ...] = (
    OrgSpec("Summit Guides GmbH", "summitguides.example", "DE", True,
            "Mountain guide company; B2B pricing, 15% off for 10+ units."),
    OrgSpec("Blue Ridge Adventure Camps", "blueridgecamps.example", "US", True,
            "Summer camps; orders tents and packs in bulk every spring."),
    OrgSpec("Club de Montaña Picos", "clubpicos.example", "ES", False,
            "Hiking club; members order individually with the club discount."),
    OrgSpec("Les Randonneurs Alpins", "randonneurs-alpins.example", "FR", False,
            "Hiking association near Chamonix."),
    OrgSpec("Escola de Surf Ericeira", "surfericeira.example", "PT", True,
            "Surf school; buys dry bags and layers for instructors."),
    OrgSpec("Northwind Scout Association", "northwindscouts.example", "GB", False,
            "Scout group; invoices must show the charity number."),
)  # fmt: skip

CUSTOMER_NOTES = (
    "Prefers WhatsApp over email.",
    "Runs a hiking club; orders in bulk each spring.",
    "Had a damaged tent last year; replaced free of charge.",
    "Long-time customer, very friendly. Likes detailed product advice.",
    "Asked not to be called; email only.",
    "Ultralight hiker: always asks about weights.",
)

# ----------------------------------------------------------------------------------------------
# Content: staff
# ----------------------------------------------------------------------------------------------

TEAMS: tuple[tuple[str, str], ...] = (
    ("Tier 1 Support", "First line: orders, shipping, returns and exchanges."),
    ("Billing", "Payments, refunds, invoices and B2B quotes."),
    ("Technical", "Accounts, the website, product and warranty questions."),
)
TIER1, BILLING, TECHNICAL = (name for name, _ in TEAMS)

_CHATTY = {"email": 12, "chat": 4, "whatsapp": 5, "sms": 5, "facebook": 4, "instagram": 4}


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    role: str
    teams: tuple[str, ...]
    languages: tuple[str, ...]
    skills: Mapping[str, int]
    capacity: Mapping[str, int]
    presence: str


STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("maya.thompson", "Maya", "Thompson", Role.AGENT, (TIER1,), ("en", "es"),
              {"shipping": 5, "returns": 4, "product knowledge": 3},
              {**_CHATTY, "phone": 1}, "online"),
    StaffSpec("lukas.berger", "Lukas", "Berger", Role.AGENT, (TIER1,), ("de", "en"),
              {"shipping": 4, "returns": 4, "product knowledge": 4},
              {"email": 10, "chat": 3, "whatsapp": 4, "phone": 1}, "online"),
    StaffSpec("camille.laurent", "Camille", "Laurent", Role.AGENT, (TIER1,), ("fr", "en"),
              {"returns": 5, "sizing": 4, "shipping": 3},
              {"email": 10, "chat": 3, "instagram": 4, "facebook": 4}, "away"),
    StaffSpec("joao.ferreira", "João", "Ferreira", Role.AGENT, (TIER1,), ("pt", "es", "en"),
              {"social media": 5, "shipping": 4, "returns": 3},
              {**_CHATTY, "chat": 5, "instagram": 6}, "online"),
    StaffSpec("priya.nair", "Priya", "Nair", Role.AGENT, (BILLING,), ("en",),
              {"billing": 5, "refunds": 5, "payments": 4},
              {"email": 15, "chat": 2, "phone": 1}, "online"),
    StaffSpec("sofia.martinez", "Sofía", "Martínez", Role.AGENT, (BILLING,), ("es", "en", "pt"),
              {"billing": 4, "refunds": 4, "invoicing": 5},
              {"email": 12, "whatsapp": 4, "sms": 4}, "offline"),
    StaffSpec("daniel.okafor", "Daniel", "Okafor", Role.AGENT, (TECHNICAL,), ("en", "fr"),
              {"technical": 5, "accounts": 5, "website": 4},
              {"email": 10, "chat": 3, "phone": 2}, "online"),
    StaffSpec("hannah.schmidt", "Hannah", "Schmidt", Role.AGENT, (TECHNICAL,), ("de", "en"),
              {"product knowledge": 5, "warranty": 4, "technical": 4},
              {"email": 10, "chat": 2}, "away"),
    StaffSpec("olivia.chen", "Olivia", "Chen", Role.SUPERVISOR, (TIER1, BILLING, TECHNICAL),
              ("en", "es"), {"escalations": 5, "shipping": 4, "billing": 3, "technical": 3},
              {"email": 8, "chat": 2, "phone": 1}, "online"),
    StaffSpec("marco.rossi", "Marco", "Rossi", Role.LIGHT_AGENT, (TECHNICAL,), ("en", "it"),
              {"product knowledge": 5, "repairs": 5, "warranty": 5}, {}, "offline"),
)  # fmt: skip
SUPERVISOR = "olivia.chen"
SPECIALIST = "marco.rossi"

# ----------------------------------------------------------------------------------------------
# Content: conversations
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """One topic's conversation in one language. Placeholders: {first} {order} {product}
    {date} {amount} {tracking} {company} {vat} {city}."""

    subject: str
    opening: str
    ask: str  # the agent's first answer, usually asking for something
    answer: str  # the customer's reply with it
    resolve: str  # the agent's solution


@dataclass(frozen=True)
class Topic:
    key: str
    team: str
    type: str
    tags: tuple[str, ...]
    priority: tuple[int, int, int, int]  # weights of low, normal, high, urgent
    weight: int
    texts: Mapping[str, Script]
    notes: tuple[str, ...]
    specialist_note: str = ""
    order_status: str = ""  # an order is created for the ticket, in this status ...
    order_status_solved: str = ""  # ... or this one once the ticket is solved
    order_lag: tuple[float, float] = (0.0, 0.0)  # days between the order and the ticket
    products: tuple[str, ...] = ()  # SKU prefixes the topic is about (empty: any)
    photo: str = ""  # the beat ("opening" or "answer") that carries a photo
    b2b: bool = False


TOPICS: tuple[Topic, ...] = (
    Topic(
        "where_is_order", TIER1, "question", ("shipping", "wismo"), (1, 6, 3, 1), 16,
        {
            "en": Script(
                "Where is my order {order}?",
                "Hi, I ordered the {product} on {date} (order {order}) and it still hasn't "
                "arrived. The tracking hasn't updated in days. Can you check what's going on?",
                "Thanks for reaching out! I checked order {order}: the parcel is with the carrier "
                "but the tracking hasn't updated since it left our warehouse, so I've opened an "
                "investigation with them. Could you confirm the delivery address is still "
                "correct?",
                "Yes, the address is correct. I'll be home all week if they try again.",
                "Good news: the carrier found the parcel, it had been mis-sorted at their hub. "
                "It's out for delivery and should reach you within 2 working days. I'll keep an "
                "eye on the tracking.",
            ),
            "es": Script(
                "¿Dónde está mi pedido {order}?",
                "Hola, hice el pedido {order} ({product}) el {date} y todavía no ha llegado. El "
                "seguimiento no se actualiza desde hace días. ¿Podéis revisarlo?",
                "¡Gracias por escribirnos! He revisado el pedido {order}: el paquete está con el "
                "transportista, pero el seguimiento no se actualiza desde que salió de nuestro "
                "almacén, así que he abierto una incidencia con ellos. ¿Me confirmas que la "
                "dirección de entrega sigue siendo correcta?",
                "Sí, la dirección es correcta. Estaré en casa toda la semana.",
                "Buenas noticias: el transportista ha localizado el paquete, estaba mal "
                "clasificado en su centro de distribución. Ya está en reparto y debería llegarte "
                "en 2 días laborables.",
            ),
            "de": Script(
                "Wo bleibt meine Bestellung {order}?",
                "Hallo, ich habe am {date} bestellt ({product}, Bestellung {order}) und das Paket "
                "ist immer noch nicht da. Die Sendungsverfolgung bewegt sich seit Tagen nicht. "
                "Können Sie bitte nachsehen?",
                "Danke für Ihre Nachricht! Ich habe mir die Bestellung {order} angesehen: Das "
                "Paket ist beim Versanddienstleister, aber die Sendungsverfolgung wurde seit dem "
                "Verlassen unseres Lagers nicht aktualisiert. Ich habe einen Nachforschungsauftrag "
                "gestartet. Stimmt die Lieferadresse noch?",
                "Ja, die Adresse stimmt. Ich bin die ganze Woche zu Hause.",
                "Gute Nachrichten: Der Versanddienstleister hat das Paket gefunden, es war im "
                "Verteilzentrum falsch sortiert. Es ist jetzt in der Zustellung und sollte "
                "innerhalb von 2 Werktagen bei Ihnen sein.",
            ),
            "fr": Script(
                "Où est ma commande {order} ?",
                "Bonjour, j'ai commandé le {date} (commande {order}, {product}) et je n'ai "
                "toujours rien reçu. Le suivi n'a pas bougé depuis plusieurs jours. Pouvez-vous "
                "vérifier ?",
                "Merci de nous avoir contactés ! J'ai vérifié la commande {order} : le colis est "
                "chez le transporteur mais le suivi n'a pas été mis à jour depuis son départ de "
                "notre entrepôt. J'ai ouvert une enquête auprès d'eux. Pouvez-vous me confirmer "
                "que l'adresse de livraison est toujours correcte ?",
                "Oui, l'adresse est bonne. Je suis chez moi toute la semaine.",
                "Bonne nouvelle : le transporteur a retrouvé le colis, il avait été mal trié. Il "
                "est en cours de livraison et devrait vous parvenir sous 2 jours ouvrés.",
            ),
            "pt": Script(
                "Onde está a minha encomenda {order}?",
                "Olá, fiz a encomenda {order} ({product}) no dia {date} e ainda não chegou. O "
                "rastreio não é atualizado há dias. Podem verificar?",
                "Obrigado pelo contacto! Verifiquei a encomenda {order}: o pacote está com a "
                "transportadora, mas o rastreio não é atualizado desde que saiu do nosso armazém, "
                "por isso abri uma investigação. Pode confirmar que a morada de entrega continua "
                "correta?",
                "Sim, a morada está correta. Vou estar em casa a semana toda.",
                "Boas notícias: a transportadora encontrou o pacote, tinha sido mal encaminhado. "
                "Já está em distribuição e deve chegar em 2 dias úteis.",
            ),
        },
        (
            "Carrier portal: last scan at the regional hub 4 days ago. Opened trace {trace}.",
            "WMS shows {order} picked and shipped on time; the delay is on the carrier's side.",
        ),
        order_status="shipped", order_status_solved="delivered", order_lag=(7, 18),
    ),
    Topic(
        "refund", BILLING, "task", ("refund", "returns"), (1, 6, 3, 0), 12,
        {
            "en": Script(
                "Refund for order {order}",
                "Hello, I sent back the {product} from order {order} last week but I haven't "
                "received my refund yet. How long does it usually take?",
                "Thanks for your message! I can see your return for order {order} was "
                "registered. Could you send me the return tracking number so I can check whether "
                "it has reached our warehouse?",
                "Sure, the tracking number is {tracking}.",
                "Thank you! Your return arrived at our warehouse and has been approved. I've just "
                "refunded {amount} to your original payment method. Depending on your bank it "
                "can take 3 to 5 working days to show up.",
            ),
            "es": Script(
                "Reembolso del pedido {order}",
                "Hola, devolví el {product} del pedido {order} la semana pasada pero aún no he "
                "recibido el reembolso. ¿Cuánto suele tardar?",
                "¡Gracias por tu mensaje! Veo que la devolución del pedido {order} está "
                "registrada. ¿Puedes enviarme el número de seguimiento de la devolución para "
                "comprobar si ya ha llegado a nuestro almacén?",
                "Claro, el número de seguimiento es {tracking}.",
                "¡Gracias! Tu devolución ha llegado y está aprobada. Acabo de reembolsar {amount} "
                "a tu método de pago original. Según tu banco, puede tardar de 3 a 5 días "
                "laborables en aparecer.",
            ),
            "de": Script(
                "Erstattung für Bestellung {order}",
                "Hallo, ich habe letzte Woche den Artikel {product} aus der Bestellung {order} "
                "zurückgeschickt, aber noch keine Erstattung erhalten. Wie lange dauert das "
                "normalerweise?",
                "Danke für Ihre Nachricht! Ihre Rücksendung zur Bestellung {order} ist "
                "angemeldet. Können Sie mir die Sendungsnummer schicken, damit ich prüfen kann, "
                "ob sie schon in unserem Lager angekommen ist?",
                "Klar, die Sendungsnummer ist {tracking}.",
                "Vielen Dank! Ihre Rücksendung ist eingegangen und wurde freigegeben. Ich habe "
                "soeben {amount} auf Ihre ursprüngliche Zahlungsmethode erstattet. Je nach Bank "
                "dauert es 3 bis 5 Werktage, bis der Betrag sichtbar ist.",
            ),
            "fr": Script(
                "Remboursement de la commande {order}",
                "Bonjour, j'ai renvoyé l'article {product} de la commande {order} la semaine "
                "dernière mais je n'ai toujours pas été remboursé. Combien de temps cela prend-il "
                "en général ?",
                "Merci pour votre message ! Le retour de la commande {order} est bien "
                "enregistré. Pourriez-vous m'envoyer le numéro de suivi du retour afin que je "
                "vérifie s'il est arrivé à notre entrepôt ?",
                "Bien sûr, le numéro de suivi est {tracking}.",
                "Merci ! Votre retour est arrivé et a été validé. Je viens de rembourser "
                "{amount} sur votre moyen de paiement d'origine. Selon votre banque, il faut "
                "compter 3 à 5 jours ouvrés.",
            ),
            "pt": Script(
                "Reembolso da encomenda {order}",
                "Olá, devolvi o artigo {product} da encomenda {order} na semana passada, mas "
                "ainda não recebi o reembolso. Quanto tempo costuma demorar?",
                "Obrigado pela mensagem! A devolução da encomenda {order} está registada. Pode "
                "enviar-me o número de rastreio da devolução para eu verificar se já chegou ao "
                "nosso armazém?",
                "Claro, o número de rastreio é {tracking}.",
                "Obrigado! A sua devolução chegou e foi aprovada. Acabei de reembolsar {amount} "
                "para o método de pagamento original. Dependendo do banco, pode demorar 3 a 5 "
                "dias úteis.",
            ),
        },
        (
            "Return {tracking} received and inspected: item in resellable condition, OK to "
            "refund.",
            "Refund is above my approval limit; asking the Billing lead to sign it off.",
        ),
        order_status="returned", order_status_solved="refunded", order_lag=(14, 35),
    ),
    Topic(
        "broken_zipper", TIER1, "incident", ("defect", "warranty", "zipper"), (0, 6, 3, 1), 9,
        {
            "en": Script(
                "Broken zipper on my {product}",
                "Hi, the main zipper on my {product} broke after only two trips: the slider came "
                "off and now it won't close at all. I've attached a photo. Is this covered by "
                "the warranty?",
                "I'm sorry to hear that, {first}! Thanks for the photo: that's clearly a "
                "manufacturing defect and it's covered by our 2-year warranty. Would you prefer "
                "a free repair or a replacement?",
                "A replacement would be great, I have a trip coming up in two weeks.",
                "Done! I've sent you a new {product} free of charge; it ships today with express "
                "delivery. No need to send the broken one back.",
            ),
            "es": Script(
                "Cremallera rota en mi {product}",
                "Hola, la cremallera principal de mi {product} se rompió después de solo dos "
                "salidas: el cursor se salió y ya no cierra. Adjunto una foto. ¿Lo cubre la "
                "garantía?",
                "¡Siento mucho oír eso, {first}! Gracias por la foto: es claramente un defecto de "
                "fabricación y lo cubre nuestra garantía de 2 años. ¿Prefieres una reparación "
                "gratuita o un reemplazo?",
                "Un reemplazo sería genial, tengo un viaje dentro de dos semanas.",
                "¡Hecho! Te he enviado un {product} nuevo sin coste; sale hoy con envío urgente. "
                "No hace falta que nos devuelvas el roto.",
            ),
            "de": Script(
                "Reißverschluss an meinem {product} kaputt",
                "Hallo, der Hauptreißverschluss an meinem {product} ist nach nur zwei Touren "
                "kaputtgegangen: Der Schieber hat sich gelöst und er schließt nicht mehr. Ein "
                "Foto hänge ich an. Fällt das unter die Garantie?",
                "Das tut mir leid, {first}! Danke für das Foto: Das ist eindeutig ein "
                "Herstellungsfehler und fällt unter unsere 2-Jahres-Garantie. Möchten Sie lieber "
                "eine kostenlose Reparatur oder einen Ersatz?",
                "Ein Ersatz wäre super, ich habe in zwei Wochen eine Tour geplant.",
                "Erledigt! Ich habe Ihnen kostenlos Ersatz ({product}) geschickt, er geht heute "
                "per Express raus. Das defekte Teil müssen Sie nicht zurückschicken.",
            ),
            "fr": Script(
                "Fermeture éclair cassée : {product}",
                "Bonjour, la fermeture éclair principale de mon {product} a cassé après "
                "seulement deux sorties : le curseur s'est détaché et elle ne ferme plus du tout. "
                "Je joins une photo. Est-ce couvert par la garantie ?",
                "Je suis désolé d'apprendre cela, {first} ! Merci pour la photo : il s'agit "
                "clairement d'un défaut de fabrication, couvert par notre garantie de 2 ans. "
                "Préférez-vous une réparation gratuite ou un remplacement ?",
                "Un remplacement serait parfait, je pars en randonnée dans deux semaines.",
                "C'est fait ! Je vous ai envoyé un nouveau {product} gratuitement ; il part "
                "aujourd'hui en express. Inutile de nous renvoyer l'ancien.",
            ),
            "pt": Script(
                "Fecho avariado: {product}",
                "Olá, o fecho principal do meu {product} partiu-se depois de apenas duas saídas: "
                "o cursor soltou-se e já não fecha. Envio uma foto em anexo. Está coberto pela "
                "garantia?",
                "Lamento muito, {first}! Obrigado pela foto: é claramente um defeito de fabrico e "
                "está coberto pela nossa garantia de 2 anos. Prefere uma reparação gratuita ou "
                "uma substituição?",
                "Uma substituição seria ótimo, tenho uma viagem daqui a duas semanas.",
                "Feito! Enviei-lhe um {product} novo sem custos; segue hoje por envio expresso. "
                "Não precisa de devolver o avariado.",
            ),
        },
        ("Third zipper complaint for this product this month; flagging to the product team.",),
        specialist_note=(
            "Product specialist: this model uses a YKK #8 coil zipper. Our repair centre can "
            "replace the slider in 5 working days if the customer prefers a repair."
        ),
        order_status="delivered", order_lag=(20, 90), products=("BP-", "JK-", "SB-"),
        photo="opening",
    ),
    Topic(
        "sizing", TIER1, "question", ("sizing", "exchange"), (2, 7, 1, 0), 10,
        {
            "en": Script(
                "Wrong size: can I exchange the {product}?",
                "Hi! The {product} from order {order} is too small. I normally wear this size "
                "but it feels half a size smaller. Can I exchange it for the next size up?",
                "Of course! Exchanges are free within 30 days and the next size up is in stock. "
                "Shall I reserve it for you? I'll email you a prepaid return label as soon as "
                "you confirm.",
                "Yes please, reserve the next size up. Thanks!",
                "All set: I've reserved the new size and sent the prepaid return label to your "
                "email. Your replacement ships as soon as the carrier scans your return.",
            ),
            "es": Script(
                "Talla equivocada: ¿puedo cambiar {product}?",
                "¡Hola! El {product} del pedido {order} me queda pequeño. Normalmente uso esta "
                "talla, pero este modelo es como media talla menos. ¿Puedo cambiarlo por la "
                "talla siguiente?",
                "¡Claro! Los cambios son gratuitos durante 30 días y la talla siguiente está "
                "disponible. ¿Te la reservo? Te enviaré una etiqueta de devolución prepagada en "
                "cuanto me lo confirmes.",
                "Sí, por favor, resérvamela. ¡Gracias!",
                "Listo: he reservado la nueva talla y te he enviado la etiqueta de devolución "
                "por correo. El cambio saldrá en cuanto el transportista escanee tu devolución.",
            ),
            "de": Script(
                "Falsche Größe: kann ich {product} umtauschen?",
                "Hallo! {product} aus meiner Bestellung {order} ist zu klein. Normalerweise "
                "passt mir diese Größe, aber das Modell fällt etwa eine halbe Nummer kleiner "
                "aus. Kann ich es gegen die nächste Größe tauschen?",
                "Natürlich! Der Umtausch ist innerhalb von 30 Tagen kostenlos und die nächste "
                "Größe ist auf Lager. Soll ich sie für Sie reservieren? Sobald Sie bestätigen, "
                "schicke ich Ihnen ein vorfrankiertes Rücksendeetikett.",
                "Ja bitte, reservieren Sie die nächste Größe. Danke!",
                "Alles erledigt: Die neue Größe ist reserviert und das Rücksendeetikett ist per "
                "E-Mail unterwegs. Der Ersatz geht raus, sobald Ihre Rücksendung gescannt wurde.",
            ),
            "fr": Script(
                "Mauvaise taille : puis-je échanger {product} ?",
                "Bonjour ! Le {product} de la commande {order} est trop petit. Je prends "
                "d'habitude cette taille, mais il taille une demi-pointure en dessous. Puis-je "
                "l'échanger contre la taille au-dessus ?",
                "Bien sûr ! Les échanges sont gratuits pendant 30 jours et la taille au-dessus "
                "est en stock. Voulez-vous que je vous la réserve ? Je vous enverrai une "
                "étiquette de retour prépayée dès votre confirmation.",
                "Oui, merci de me la réserver !",
                "C'est fait : la nouvelle taille est réservée et l'étiquette de retour vous a "
                "été envoyée par e-mail. L'échange partira dès que votre retour sera scanné.",
            ),
            "pt": Script(
                "Tamanho errado: posso trocar {product}?",
                "Olá! O {product} da encomenda {order} ficou pequeno. Normalmente uso este "
                "tamanho, mas este modelo veste meio número abaixo. Posso trocar pelo tamanho "
                "seguinte?",
                "Claro! As trocas são gratuitas durante 30 dias e o tamanho seguinte está em "
                "stock. Quer que o reserve? Envio-lhe uma etiqueta de devolução pré-paga assim "
                "que confirmar.",
                "Sim, por favor, reserve-o. Obrigado!",
                "Tudo tratado: reservei o novo tamanho e enviei-lhe a etiqueta de devolução por "
                "e-mail. A troca segue assim que a sua devolução for registada.",
            ),
        },
        ("Exchange reserved in the WMS; waiting for the return scan.",),
        specialist_note=(
            "Product specialist: the Trailblazer and Skyline lasts run half a size small. "
            "Recommend half a size up, especially with thick socks."
        ),
        order_status="delivered", order_status_solved="returned", order_lag=(3, 12),
        products=("FW-", "JK-", "ML-", "BL-"),
    ),
    Topic(
        "invoice", BILLING, "task", ("invoice",), (3, 7, 0, 0), 8,
        {
            "en": Script(
                "Invoice for order {order}",
                "Hello, could you send me a VAT invoice for order {order}? I need it for my "
                "expenses, made out to {company}.",
                "Happy to help! Could you send me the full billing address and VAT number you'd "
                "like on the invoice?",
                "Sure: {company}, VAT number {vat}. The address is the same as on the order.",
                "Here you go: I've generated the invoice for order {order} with your company "
                "details and emailed it to you as a PDF. It's also in your account under "
                "Orders.",
            ),
            "es": Script(
                "Factura del pedido {order}",
                "Hola, ¿podríais enviarme una factura con IVA del pedido {order}? La necesito "
                "para mis gastos, a nombre de {company}.",
                "¡Con mucho gusto! ¿Puedes enviarme la dirección de facturación completa y el NIF "
                "que deben aparecer en la factura?",
                "Claro: {company}, NIF {vat}. La dirección es la misma que la del pedido.",
                "Aquí la tienes: he generado la factura del pedido {order} con los datos de tu "
                "empresa y te la he enviado por correo en PDF. También está en tu cuenta, en "
                "Pedidos.",
            ),
            "de": Script(
                "Rechnung für Bestellung {order}",
                "Hallo, könnten Sie mir bitte eine Rechnung mit ausgewiesener MwSt. für die "
                "Bestellung {order} schicken? Ich brauche sie für die Spesenabrechnung, bitte "
                "auf {company}.",
                "Sehr gerne! Schicken Sie mir bitte die vollständige Rechnungsadresse und die "
                "USt-IdNr., die auf der Rechnung stehen sollen.",
                "Klar: {company}, USt-IdNr. {vat}. Die Adresse ist dieselbe wie in der "
                "Bestellung.",
                "Bitte sehr: Die Rechnung für die Bestellung {order} mit Ihren Firmendaten ist "
                "als PDF per E-Mail unterwegs. Sie finden sie auch in Ihrem Konto unter "
                "Bestellungen.",
            ),
            "fr": Script(
                "Facture de la commande {order}",
                "Bonjour, pourriez-vous m'envoyer une facture avec TVA pour la commande {order} "
                "? J'en ai besoin pour mes notes de frais, au nom de {company}.",
                "Avec plaisir ! Pourriez-vous m'indiquer l'adresse de facturation complète et le "
                "numéro de TVA à faire figurer sur la facture ?",
                "Bien sûr : {company}, numéro de TVA {vat}. L'adresse est celle de la commande.",
                "Voilà : la facture de la commande {order} avec les informations de votre "
                "entreprise vous a été envoyée par e-mail en PDF. Elle est aussi disponible dans "
                "votre compte, rubrique Commandes.",
            ),
            "pt": Script(
                "Fatura da encomenda {order}",
                "Olá, podem enviar-me uma fatura com IVA da encomenda {order}? Preciso dela para "
                "as despesas, em nome de {company}.",
                "Com todo o gosto! Pode enviar-me a morada de faturação completa e o NIF que "
                "devem constar da fatura?",
                "Claro: {company}, NIF {vat}. A morada é a mesma da encomenda.",
                "Aqui está: a fatura da encomenda {order} com os dados da sua empresa seguiu por "
                "e-mail em PDF. Também está disponível na sua conta, em Encomendas.",
            ),
        },
        ("Invoice generated in the ERP with the customer's VAT ID.", "VAT ID checked: valid."),
        order_status="delivered", order_lag=(1, 25),
    ),
    Topic(
        "account_locked", TECHNICAL, "incident", ("account", "login"), (1, 5, 3, 1), 8,
        {
            "en": Script(
                "Can't log in: account locked",
                "Hi, I tried to log in a few times with the wrong password and now it says my "
                "account is locked. The reset email never arrives either. Can you help?",
                "Sorry about that, {first}! For security, accounts lock for 30 minutes after "
                "five failed attempts. I've unlocked yours. Could you check your spam folder? "
                "I've just triggered a new reset email.",
                "Found it in spam, but the link says it has expired.",
                "I've sent a fresh reset link that's valid for 24 hours. You should be able to "
                "log in now; let me know if anything still doesn't work.",
            ),
            "es": Script(
                "No puedo iniciar sesión: cuenta bloqueada",
                "Hola, intenté entrar varias veces con la contraseña equivocada y ahora dice que "
                "mi cuenta está bloqueada. Además, el correo para restablecer la contraseña no "
                "me llega. ¿Me ayudáis?",
                "¡Perdona las molestias, {first}! Por seguridad, las cuentas se bloquean 30 "
                "minutos tras cinco intentos fallidos. Ya la he desbloqueado. ¿Puedes mirar en "
                "spam? Acabo de enviarte un nuevo correo de restablecimiento.",
                "Lo encontré en spam, pero el enlace dice que ha caducado.",
                "Te he enviado un enlace nuevo válido durante 24 horas. Ya deberías poder "
                "entrar; avísame si algo sigue sin funcionar.",
            ),
            "de": Script(
                "Login nicht möglich: Konto gesperrt",
                "Hallo, ich habe mich mehrmals mit dem falschen Passwort angemeldet und jetzt ist "
                "mein Konto gesperrt. Die E-Mail zum Zurücksetzen kommt auch nicht an. Können "
                "Sie helfen?",
                "Das tut mir leid, {first}! Aus Sicherheitsgründen wird ein Konto nach fünf "
                "Fehlversuchen für 30 Minuten gesperrt. Ich habe es wieder freigeschaltet. "
                "Schauen Sie bitte im Spam-Ordner nach, ich habe gerade eine neue E-Mail "
                "ausgelöst.",
                "Die Mail war im Spam, aber der Link ist angeblich abgelaufen.",
                "Ich habe Ihnen einen neuen Link geschickt, der 24 Stunden gültig ist. Jetzt "
                "sollte die Anmeldung klappen; melden Sie sich gern, falls noch etwas hakt.",
            ),
            "fr": Script(
                "Impossible de me connecter : compte bloqué",
                "Bonjour, j'ai essayé de me connecter plusieurs fois avec un mauvais mot de passe "
                "et maintenant mon compte est bloqué. Je ne reçois pas non plus l'e-mail de "
                "réinitialisation. Pouvez-vous m'aider ?",
                "Désolé pour ce désagrément, {first} ! Par sécurité, les comptes sont bloqués 30 "
                "minutes après cinq tentatives échouées. Je l'ai débloqué. Pouvez-vous vérifier "
                "vos spams ? Je viens de vous renvoyer un e-mail de réinitialisation.",
                "Je l'ai trouvé dans les spams, mais le lien a expiré.",
                "Je vous ai envoyé un nouveau lien valable 24 heures. Vous devriez pouvoir vous "
                "connecter maintenant ; n'hésitez pas à revenir vers moi sinon.",
            ),
            "pt": Script(
                "Não consigo entrar: conta bloqueada",
                "Olá, tentei entrar várias vezes com a palavra-passe errada e agora a conta está "
                "bloqueada. O e-mail de recuperação também não chega. Podem ajudar?",
                "Lamento o incómodo, {first}! Por segurança, as contas ficam bloqueadas 30 "
                "minutos após cinco tentativas falhadas. Já a desbloqueei. Pode verificar a "
                "pasta de spam? Acabei de enviar um novo e-mail de recuperação.",
                "Encontrei-o no spam, mas o link diz que expirou.",
                "Enviei-lhe um novo link válido por 24 horas. Já deve conseguir entrar; diga-me "
                "se ainda houver algum problema.",
            ),
        },
        (
            "Auth logs: five failed logins from the same IP, no sign of credential stuffing. "
            "Unlocked manually.",
            "Reset emails to this mail provider were soft-bouncing; raised with IT.",
        ),
    ),
    Topic(
        "warranty", TECHNICAL, "question", ("warranty",), (2, 7, 1, 0), 5,
        {
            "en": Script(
                "Warranty question about my {product}",
                "Hi, my {product} is about 18 months old and the seams on the shoulder straps "
                "are starting to come apart. Is that still covered by the warranty?",
                "Thanks for getting in touch! Our warranty covers manufacturing defects for 2 "
                "years. Could you send a couple of photos of the seams and tell me roughly how "
                "often you've used it?",
                "Photos attached. I use it most weekends, mostly for day hikes.",
                "Thanks for the photos! That's a stitching defect, so it's covered. I've created "
                "a free warranty repair: print the prepaid label I emailed you and drop the item "
                "off at any parcel shop. Repairs take about 10 working days.",
            ),
            "de": Script(
                "Garantiefrage zu {product}",
                "Hallo, mein {product} ist etwa 18 Monate alt und die Nähte an den Trägern lösen "
                "sich. Ist das noch von der Garantie abgedeckt?",
                "Danke für Ihre Nachricht! Unsere Garantie deckt Herstellungsfehler 2 Jahre lang "
                "ab. Können Sie mir ein paar Fotos der Nähte schicken und sagen, wie oft Sie es "
                "ungefähr benutzen?",
                "Fotos anbei. Ich nutze es fast jedes Wochenende, meist für Tagestouren.",
                "Danke für die Fotos! Das ist ein Nahtfehler und damit ein Garantiefall. Ich habe "
                "eine kostenlose Reparatur angelegt: Drucken Sie das Etikett aus meiner E-Mail "
                "aus und geben Sie das Paket in einem Paketshop ab. Die Reparatur dauert etwa 10 "
                "Werktage.",
            ),
        },
        ("Purchase date checked: within the 2-year warranty window.",),
        specialist_note=(
            "Product specialist: warranty covers manufacturing defects for 2 years (5 for "
            "tents); wear and tear and misuse are excluded. Strap seam failure is a defect."
        ),
        order_status="delivered", order_lag=(520, 580), products=("BP-", "CL-", "SB-"),
        photo="answer",
    ),
    Topic(
        "damaged_delivery", TIER1, "incident", ("shipping", "damaged"), (0, 4, 5, 1), 6,
        {
            "en": Script(
                "Order {order} arrived damaged",
                "Hello, my order {order} arrived today and the box was crushed. The {product} "
                "inside is damaged. What can I do?",
                "I'm really sorry, {first}! Could you send a photo of the damaged item and of "
                "the outer box? That helps us file the claim with the carrier.",
                "Here are the photos of the box and the damage.",
                "Thank you! I've filed the claim with the carrier and sent you a replacement "
                "with express shipping at no cost. You can keep or recycle the damaged one.",
            ),
        },
        ("Carrier damage claim filed, reference {trace}.", "Replacement shipped express."),
        order_status="delivered", order_lag=(2, 6), photo="answer",
    ),
    Topic(
        "charged_twice", BILLING, "incident", ("payment", "double-charge"), (0, 3, 5, 2), 6,
        {
            "en": Script(
                "Charged twice for order {order}",
                "Hi, I just checked my bank statement and I was charged twice for order {order} "
                "({amount} each time). Please refund the duplicate charge.",
                "Thanks for flagging this, {first}. On our side I see one payment and one "
                "authorisation; the second is usually a hold your bank releases within 5 days. "
                "Could you send a screenshot of the statement so I can double-check?",
                "Screenshot attached: both charges show as completed, not pending.",
                "You're right, the payment provider captured the order twice. I've refunded the "
                "duplicate {amount}; you'll get a confirmation email shortly and the money "
                "should be back in 3 to 5 working days. Sorry for the trouble!",
            ),
            "es": Script(
                "Cobro duplicado del pedido {order}",
                "Hola, acabo de revisar mi extracto y me habéis cobrado dos veces el pedido "
                "{order} ({amount} cada vez). Por favor, devolvedme el cargo duplicado.",
                "Gracias por avisarnos, {first}. Veo un pago y una autorización; la segunda "
                "suele ser una retención que tu banco libera en 5 días. ¿Puedes enviarme una "
                "captura del extracto para comprobarlo?",
                "Adjunto la captura: los dos cargos aparecen como completados, no pendientes.",
                "Tienes razón, la pasarela de pago cobró el pedido dos veces. Te he devuelto el "
                "cargo duplicado de {amount}; el dinero debería volver en 3 a 5 días "
                "laborables. ¡Disculpa las molestias!",
            ),
        },
        (
            "Payment provider dashboard: two captures for this order 3 seconds apart; known "
            "webhook retry issue.",
            "Duplicate capture refunded.",
        ),
        order_status="paid", order_status_solved="shipped", order_lag=(0.5, 3), photo="answer",
    ),
    Topic(
        "cancel_order", TIER1, "task", ("cancellation",), (0, 5, 4, 1), 5,
        {
            "en": Script(
                "Please cancel order {order}",
                "Hi, I placed order {order} this morning by mistake (I ordered the {product} "
                "twice). Can you cancel it before it ships?",
                "No problem, {first}! I've stopped the order in our warehouse before it was "
                "packed. Just to confirm: should I cancel the whole order {order}?",
                "The whole order please, the other one is fine.",
                "Done: order {order} is cancelled and the payment authorisation has been "
                "released. You'll get a cancellation email in a few minutes.",
            ),
        },
        ("Order pulled from the picking wave before packing.",),
        order_status="pending", order_status_solved="cancelled", order_lag=(0.05, 0.3),
    ),
    Topic(
        "address_change", TIER1, "task", ("shipping", "address-change"), (0, 6, 4, 0), 4,
        {
            "en": Script(
                "Change delivery address for {order}",
                "Hello, I just noticed I used my old address for order {order}. Can you change "
                "it? I moved to {city} last month.",
                "Sure thing! Could you confirm the new address is the one now saved in your "
                "account? If the parcel hasn't left yet I can update it directly.",
                "Yes, the new address is the one in my account profile.",
                "Updated! Order {order} will go to the new address from your profile. The parcel "
                "hadn't been handed to the carrier yet, so there's no delay.",
            ),
        },
        ("Address updated in the WMS before the label was printed.",),
        order_status="paid", order_status_solved="shipped", order_lag=(0.05, 1),
    ),
    Topic(
        "discount_code", BILLING, "question", ("promo-code",), (4, 6, 0, 0), 4,
        {
            "en": Script(
                "Discount code not working",
                "Hi, I'm trying to use the code SPRING15 from your newsletter but the checkout "
                "says it's invalid. My basket has the {product} in it.",
                "Thanks for letting us know! SPRING15 works on full-price items only, and the "
                "{product} is already reduced. Would you like me to place the order for you at "
                "the better of the two prices?",
                "Oh I see. Yes please, place the order at the better price.",
                "All done: I've placed the order at the lower sale price and added free shipping "
                "as a thank-you for your patience. The confirmation email is on its way.",
            ),
        },
        ("SPRING15 excludes sale items by design; not a bug.",),
    ),
    Topic(
        "tent_leak", TECHNICAL, "problem", ("product-question", "tent"), (1, 5, 3, 1), 4,
        {
            "en": Script(
                "{product} leaking in the rain",
                "Hello, we used our {product} last weekend and water came in along the seams of "
                "the rain fly during a heavy storm. Is that normal? It's only a few months old.",
                "Thanks for the details, {first}. Was the fly fully tensioned with the vents "
                "open? Condensation can look a lot like a leak. Could you also send a photo of "
                "where the water came in?",
                "Yes, fully tensioned. The water came through the seam tape near the door; "
                "photo attached.",
                "Thanks, the photo shows the seam tape lifting, which is a defect. I've arranged "
                "a free re-taping under warranty, or a replacement fly if you prefer. A prepaid "
                "label is on its way to your email.",
            ),
            "fr": Script(
                "{product} : infiltration d'eau sous la pluie",
                "Bonjour, nous avons utilisé notre {product} le week-end dernier et l'eau est "
                "entrée le long des coutures du double toit pendant un gros orage. Est-ce normal "
                "? Elle n'a que quelques mois.",
                "Merci pour ces précisions, {first}. Le double toit était-il bien tendu, avec les "
                "aérations ouvertes ? La condensation ressemble souvent à une fuite. Pourriez-vous "
                "m'envoyer une photo de l'endroit où l'eau est entrée ?",
                "Oui, bien tendu. L'eau est passée par la bande d'étanchéité près de la porte ; "
                "photo jointe.",
                "Merci, la photo montre que la bande d'étanchéité se décolle : c'est un défaut. "
                "Je vous propose une réparation gratuite sous garantie ou un double toit de "
                "remplacement. Une étiquette prépayée vous a été envoyée par e-mail.",
            ),
        },
        ("Second leak report on this tent this season; logged for QA.",),
        specialist_note=(
            "Product specialist: seam tape on the Summit fly can lift if the tent is stored wet "
            "for weeks. Offer a free re-taping under warranty."
        ),
        order_status="delivered", order_lag=(30, 150), products=("TN-",), photo="answer",
    ),
    Topic(
        "bulk_order", BILLING, "question", ("b2b", "bulk-order"), (1, 6, 3, 0), 3,
        {
            "en": Script(
                "Bulk order for {company}",
                "Hello, I'm organising gear for {company}. We'd like to order 12 units of the "
                "{product} for our guides before the season starts. Do you offer a group "
                "discount, and can you deliver by the end of the month?",
                "Thanks for thinking of us! For 10 or more units we offer 15% off and free "
                "shipping. Do you need a specific mix of sizes or colours? I'll check stock for "
                "your date right away.",
                "Mostly sizes M and L, all in the dark colour. End of the month is perfect.",
                "Great news: everything is in stock. I've sent you a quote with the 15% group "
                "discount and free delivery by the 28th; once you approve it, we ship within 2 "
                "working days.",
            ),
            "de": Script(
                "Sammelbestellung für {company}",
                "Hallo, ich organisiere die Ausrüstung für {company}. Wir möchten vor "
                "Saisonbeginn 12 Stück {product} für unsere Guides bestellen. Gibt es einen "
                "Mengenrabatt und können Sie bis Monatsende liefern?",
                "Danke, dass Sie an uns denken! Ab 10 Stück gibt es 15 % Rabatt und kostenlosen "
                "Versand. Brauchen Sie eine bestimmte Größen- oder Farbmischung? Ich prüfe sofort "
                "den Lagerbestand.",
                "Hauptsächlich M und L, alles in der dunklen Farbe. Monatsende wäre perfekt.",
                "Gute Nachrichten: Alles ist auf Lager. Sie haben ein Angebot mit 15 % "
                "Mengenrabatt und kostenloser Lieferung bis zum 28. erhalten; nach Ihrer "
                "Freigabe versenden wir innerhalb von 2 Werktagen.",
            ),
        },
        ("Group discount of 15% approved for 10+ units.", "Quote sent from the ERP."),
        b2b=True,
    ),
    Topic(
        "checkout_error", TECHNICAL, "problem", ("website", "checkout", "bug"), (0, 3, 5, 2), 5,
        {
            "en": Script(
                "Error at checkout: payment won't go through",
                "Hi, every time I try to pay for my basket ({product}) the checkout shows "
                "'Something went wrong (code 502)' and nothing happens. I tried two cards.",
                "Thanks for reporting this, {first}, and sorry for the hassle. We're looking "
                "into an issue with our payment page on some browsers. Which browser and device "
                "are you using?",
                "Safari on an iPhone. It works on my laptop with Firefox.",
                "Thanks, that helped us pin it down: a bug with Safari on iOS, fixed by our "
                "developers this morning. Checkout works again on your phone, and I've added a "
                "10% voucher to your account for the trouble.",
            ),
        },
        (
            "Reproduced on iOS Safari: the payment iframe is blocked by a new CSP header. Dev "
            "ticket ENG-{eng} opened.",
            "Fix deployed; confirmed working on iOS.",
        ),
    ),
    Topic(
        "restock", TIER1, "question", ("stock",), (5, 5, 0, 0), 4,
        {
            "en": Script(
                "When will the {product} be back in stock?",
                "Hi, the {product} in my size has been sold out for weeks. Do you know when it "
                "will be back? I'd like it for a trip next month.",
                "Good question! The next delivery from our supplier is due in about 10 days. "
                "Shall I set a back-in-stock alert for your size so you hear first?",
                "Yes please, set the alert!",
                "Done: you're on the list for the {product} in your size and will get an email "
                "the moment it's back. I've also reserved one unit from the incoming delivery "
                "for you.",
            ),
        },
        ("Supplier ETA confirmed: delivery in about 10 days.",),
    ),
)  # fmt: skip
TOPIC_BY_KEY = {t.key: t for t in TOPICS}


@dataclass(frozen=True)
class Phrases:
    nudge: str  # a customer chasing a reply (email-like channels)
    chat_nudge: str  # ... on a live channel
    thanks: str
    welcome: str
    hold: str  # the agent explains the wait
    followup: str  # writing again about a closed request
    greeting: str
    signoff: str
    customer_signoffs: tuple[str, ...]
    call_summary: str
    voicemail: str


PHRASES: Mapping[str, Phrases] = {
    "en": Phrases(
        "Any update on this? I haven't heard back yet.",
        "Hello? Is anyone there?",
        "Perfect, thank you so much for the quick help!",
        "You're very welcome, {first}! Enjoy your time outdoors.",
        "Thanks for your patience, {first}. I'm waiting for an answer from our partner and will "
        "get back to you as soon as I hear from them.",
        'Hello again, I\'m writing about my earlier request "{subject}": unfortunately the '
        "problem is back. Could you take another look?",
        "Hi {first},",
        "Best regards,",
        ("Thanks,", "Cheers,", "Best,"),
        "Summary of our call:",
        "Voicemail transcript",
    ),
    "es": Phrases(
        "¿Alguna novedad? Todavía no he recibido respuesta.",
        "¿Hola? ¿Hay alguien?",
        "¡Perfecto, muchas gracias por la ayuda tan rápida!",
        "¡De nada, {first}! Disfruta de la montaña.",
        "Gracias por tu paciencia, {first}. Estoy esperando la respuesta de nuestro "
        "colaborador y te escribiré en cuanto sepa algo.",
        "Hola de nuevo, os escribo por mi consulta anterior «{subject}»: por desgracia, el "
        "problema ha vuelto. ¿Podéis revisarlo otra vez?",
        "Hola, {first}:",
        "Un saludo,",
        ("Gracias,", "Saludos,"),
        "Resumen de nuestra llamada:",
        "Transcripción del buzón de voz",
    ),
    "de": Phrases(
        "Gibt es schon etwas Neues? Ich habe noch keine Antwort bekommen.",
        "Hallo? Ist da jemand?",
        "Super, vielen Dank für die schnelle Hilfe!",
        "Sehr gerne, {first}! Viel Spaß draußen.",
        "Danke für Ihre Geduld, {first}. Ich warte noch auf eine Rückmeldung unseres Partners "
        "und melde mich, sobald ich etwas höre.",
        "Hallo nochmal, es geht um meine frühere Anfrage ({subject}): Leider ist das Problem "
        "wieder da. Könnten Sie sich das bitte noch einmal ansehen?",
        "Hallo {first},",
        "Viele Grüße",
        ("Danke und viele Grüße", "Beste Grüße"),
        "Zusammenfassung unseres Telefonats:",
        "Mailbox-Transkript",
    ),
    "fr": Phrases(
        "Des nouvelles ? Je n'ai toujours pas de réponse.",
        "Bonjour ? Il y a quelqu'un ?",
        "Parfait, merci beaucoup pour votre aide rapide !",
        "Avec plaisir, {first} ! Bonnes sorties.",
        "Merci pour votre patience, {first}. J'attends une réponse de notre partenaire et je "
        "reviens vers vous dès que possible.",
        "Rebonjour, je reviens vers vous au sujet de ma demande précédente « {subject} » : "
        "malheureusement, le problème est revenu. Pourriez-vous regarder à nouveau ?",
        "Bonjour {first},",
        "Bien cordialement,",
        ("Merci,", "Cordialement,"),
        "Résumé de notre appel :",
        "Transcription du message vocal",
    ),
    "pt": Phrases(
        "Alguma novidade? Ainda não recebi resposta.",
        "Olá? Está aí alguém?",
        "Perfeito, muito obrigado pela ajuda rápida!",
        "De nada, {first}! Boas aventuras.",
        "Obrigado pela paciência, {first}. Estou à espera de resposta do nosso parceiro e volto "
        "a contactá-lo assim que souber algo.",
        "Olá novamente, escrevo sobre o meu pedido anterior «{subject}»: infelizmente o "
        "problema voltou. Podem verificar outra vez?",
        "Olá {first},",
        "Com os melhores cumprimentos,",
        ("Obrigado,", "Cumprimentos,"),
        "Resumo da nossa chamada:",
        "Transcrição da mensagem de voz",
    ),
}

GENERIC_NOTES = (
    "Checked the order history: loyal customer, no previous claims.",
    "Customer also called about this yesterday; details added here.",
    "Macro used for the first answer; double-check before solving.",
)
VIP_NOTE = "VIP customer: please prioritise."
TRIAGE_NOTES = (
    "Looks like a {team} question; routing it there.",
    "Customer seems upset; let's answer this one first.",
)
HOLD_NOTES = (
    "Waiting on the carrier's investigation before we can do anything else.",
    "Waiting for the supplier to confirm the replacement part.",
    "Waiting for Finance to reconcile the payment.",
)
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# ----------------------------------------------------------------------------------------------
# The plan: pure, deterministic for a given seed, sizes and "now"
# ----------------------------------------------------------------------------------------------

STATUS_WEIGHTS: Mapping[str, int] = {
    Status.NEW: 9,
    Status.OPEN: 16,
    Status.PENDING: 12,
    Status.ON_HOLD: 6,
    Status.SOLVED: 30,
    Status.CLOSED: 27,
}
# How many days ago a ticket in each final status typically started.
STATUS_AGE_DAYS: Mapping[str, tuple[float, float]] = {
    Status.NEW: (0.01, 2),
    Status.OPEN: (0.05, 6),
    Status.PENDING: (0.3, 12),
    Status.ON_HOLD: (1, 20),
    Status.SOLVED: (0.3, 45),
    Status.CLOSED: (5, 60),
}
CHANNEL_WEIGHTS: Mapping[str, int] = {
    Channel.EMAIL: 28,
    Channel.CHAT: 12,
    Channel.WHATSAPP: 10,
    Channel.SMS: 5,
    Channel.FACEBOOK: 6,
    Channel.INSTAGRAM: 6,
    Channel.SOCIAL: 3,
    Channel.PHONE: 8,
    Channel.PORTAL: 9,
    Channel.API: 5,
    Channel.WEB: 8,
}
# The identity a customer needs to write on a channel (others work for everyone).
CHANNEL_NEEDS: Mapping[str, str] = {
    Channel.SMS: "phone",
    Channel.WHATSAPP: "phone",
    Channel.PHONE: "phone",
    Channel.FACEBOOK: "facebook",
    Channel.INSTAGRAM: "instagram",
    Channel.SOCIAL: "twitter",
}
LIVE_CHANNELS = frozenset({Channel.CHAT})
MESSAGING_CHANNELS = frozenset(
    {Channel.WHATSAPP, Channel.SMS, Channel.FACEBOOK, Channel.INSTAGRAM, Channel.SOCIAL}
)
LETTER_CHANNELS = frozenset({Channel.EMAIL, Channel.PORTAL, Channel.WEB})
# Channels where a customer can write again after "solved" and land on the same ticket (an
# explicit reference, ticket id or thread key); sms/whatsapp/phone thread only open tickets.
REPLY_AFTER_SOLVE = frozenset(
    {
        Channel.EMAIL,
        Channel.PORTAL,
        Channel.WEB,
        Channel.API,
        Channel.CHAT,
        Channel.FACEBOOK,
        Channel.INSTAGRAM,
        Channel.SOCIAL,
    }
)
PRIORITIES = ("low", "normal", "high", "urgent")
SIZES_APPAREL = ("XS", "S", "M", "L", "XL")
SIZES_SHOES_EU = tuple(str(n) for n in range(38, 47))
SIZES_SHOES_US = ("7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12")


@dataclass
class OrderPlan:
    number: str
    product: str
    sku: str
    quantity: int
    amount: Decimal
    currency: str
    at: datetime
    status: str


@dataclass
class CustomerPlan:
    key: int
    first: str
    last: str
    locale: Locale
    city: str
    email: str
    phone: str = ""
    chat_id: str = ""
    handles: dict[str, str] = field(default_factory=dict)  # facebook, instagram, twitter
    shop_id: str = ""
    tier: str = Tier.STANDARD
    attributes: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    orgs: list[tuple[int, bool]] = field(default_factory=list)  # (organisation index, primary)
    orders: list[OrderPlan] = field(default_factory=list)
    since: datetime = field(default_factory=timezone.now)
    activity: int = 1
    company: str = ""
    vat: str = ""

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def language(self) -> str:
        return self.locale.language

    def has(self, need: str) -> bool:
        if need == "phone":
            return bool(self.phone)
        return bool(self.handles.get(need))

    def identities(self) -> list[IdentityInput]:
        """Every identity but the email, which creates the customer."""
        found = []
        if self.phone:
            found.append(IdentityInput(kind="phone", value=self.phone))
        if self.chat_id:
            found.append(IdentityInput(kind="chat", value=self.chat_id))
        for network, handle in sorted(self.handles.items()):
            found.append(IdentityInput(kind="social", value=handle, network=network))
        if self.shop_id:
            found.append(IdentityInput(kind="external", value=self.shop_id, network="shop"))
        return found


@dataclass(frozen=True)
class Step:
    """One thing that happens on a ticket, at `at`.

    kinds: "in" (customer message, through the ingest service), "reply" and "note" (agent),
    "update" (fields), "status", "collab" (invite the specialist). `actor` is a username or
    "automation:<rule>".
    """

    kind: str
    at: datetime
    actor: str = ""
    text: str = ""
    subject: str = ""
    attachment: str = ""  # file name of a photo the customer sends
    status: str = ""
    changes: Mapping[str, Any] = field(default_factory=dict)
    delivery: str = ""
    error: str = ""


@dataclass
class TicketPlan:
    key: int
    channel: str
    status: str
    customer: int
    language: str
    topic: str
    subject: str
    steps: list[Step] = field(default_factory=list)
    ticket_fields: dict[str, Any] = field(default_factory=dict)
    thread_key: str = ""
    visitor_id: str = ""
    followup_of: int | None = None

    @property
    def first_message_id(self) -> str:
        return f"{DEMO_PREFIX}{self.key}"

    @property
    def closed_at(self) -> datetime | None:
        closing = [s.at for s in self.steps if s.kind == "status" and s.status == Status.CLOSED]
        return closing[-1] if closing else None


@dataclass
class DemoPlan:
    seed: int
    now: datetime
    organisations: list[OrgSpec]
    customers: list[CustomerPlan]
    tickets: list[TicketPlan]
    portal_customer: int  # index into customers


def build_plan(
    *, seed: int = 42, customers: int = 50, tickets: int = 300, now: datetime | None = None
) -> DemoPlan:
    """Decide everything the demo will contain. Pure: no database access."""
    return _Planner(seed, now or timezone.now()).plan(max(1, customers), max(0, tickets))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _days(n: float) -> timedelta:
    return timedelta(minutes=n * DAY)


def _minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def _money(amount: Decimal, currency: str, language: str) -> str:
    text = f"{amount:,.2f}"
    if language != "en":
        text = text.replace(",", " ").replace(".", ",")
    symbols = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "BRL": "R$", "MXN": "MX$"}
    symbol = symbols.get(currency, currency + " ")
    return f"{symbol}{text}" if language == "en" else f"{text} {symbol}"


def _date_text(when: datetime, language: str) -> str:
    if language == "en":
        return f"{MONTHS_EN[when.month - 1]} {when.day}"
    if language == "de":
        return f"{when.day}.{when.month}."
    return f"{when.day}/{when.month:02d}"


class _Planner:
    def __init__(self, seed: int, now: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
        self.now = now
        self.used: set[str] = set()  # every generated unique value (names, ids, numbers)

    # -- helpers ----------------------------------------------------------------------------

    def unique(self, make: Callable[[], str]) -> str:
        for _ in range(1000):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("could not generate a unique demo value")

    def digits(self, pattern: str) -> str:
        return "".join(str(self.rng.randrange(10)) if c == "#" else c for c in pattern)

    def phone(self, locale: Locale) -> str:
        return self.digits(self.rng.choice(locale.phones))

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def price(self, product: Product, currency: str) -> Decimal:
        value = product.usd * RATES[currency]
        if currency in ("MXN", "BRL"):
            return Decimal(round(value / 10) * 10 - 1).quantize(Decimal("0.01"))
        return (Decimal(round(value)) - Decimal("0.01")).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    def order(
        self, customer: CustomerPlan, product: Product, at: datetime, status: str
    ) -> OrderPlan:
        label, sku = product.name, product.sku
        if product.sizing == "apparel":
            size = self.rng.choice(SIZES_APPAREL)
            label, sku = f"{label} ({size})", f"{sku}-{size}"
        elif product.sizing == "shoes":
            sizes = SIZES_SHOES_US if customer.locale.us_sizes else SIZES_SHOES_EU
            size = self.rng.choice(sizes)
            prefix = "US " if customer.locale.us_sizes else "EU "
            label, sku = f"{label} ({prefix}{size})", f"{sku}-{size.replace('.', '')}"
        quantity = 1
        if product.sku.startswith(("AC-BTL", "AC-DRY", "BL-")):
            quantity = self.rng.choice((1, 1, 2, 3))
        unit = self.price(product, customer.locale.currency)
        number = self.unique(lambda: f"TP-{self.rng.randint(100000, 999999)}")
        plan = OrderPlan(
            number=number,
            product=label,
            sku=sku,
            quantity=quantity,
            amount=unit * quantity,
            currency=customer.locale.currency,
            at=at,
            status=status,
        )
        customer.orders.append(plan)
        return plan

    def history_status(self, at: datetime) -> str:
        age = (self.now - at).total_seconds() / 86400
        if age < 2:
            return self.rng.choice(("pending", "paid"))
        if age < 6:
            return "shipped"
        return self.rng.choices(
            ("delivered", "returned", "refunded", "cancelled"), weights=(85, 5, 5, 5)
        )[0]

    # -- organisations and customers --------------------------------------------------------

    def plan(self, n_customers: int, n_tickets: int) -> DemoPlan:
        n_orgs = max(1, min(len(ORGANISATIONS), round(n_customers / 8)))
        orgs = list(ORGANISATIONS[:n_orgs])
        people = [self.customer(i, orgs) for i in range(n_customers)]
        self.cover_identities(people)
        portal = next((i for i, c in enumerate(people) if c.language == "en" and c.phone), 0)
        if not people[portal].orders:
            product = self.rng.choice(PRODUCTS)
            self.order(people[portal], product, self.now - _days(40), "delivered")
        tickets = self.tickets(n_tickets, people, portal)
        for person in people:  # a customer exists before their first order and ticket
            first_seen = [o.at for o in person.orders]
            first_seen += [t.steps[0].at for t in tickets if t.customer == person.key]
            if first_seen:
                person.since = min(person.since, min(first_seen) - _days(self.rng.uniform(1, 30)))
        return DemoPlan(
            seed=self.seed,
            now=self.now,
            organisations=orgs,
            customers=people,
            tickets=tickets,
            portal_customer=portal,
        )

    def customer(self, key: int, orgs: list[OrgSpec]) -> CustomerPlan:
        rng = self.rng
        locale = rng.choices(LOCALES, weights=[loc.weight for loc in LOCALES])[0]
        full = self.unique(
            lambda: f"{rng.choice(locale.first_names)} {rng.choice(locale.last_names)}"
        )
        first, last = full.split(" ", 1)
        person = CustomerPlan(
            key=key, first=first, last=last, locale=locale, city=rng.choice(locale.cities), email=""
        )
        if rng.random() < 0.32:
            local_orgs = [i for i, o in enumerate(orgs) if o.country == locale.country]
            pool = local_orgs if local_orgs and rng.random() < 0.7 else list(range(len(orgs)))
            primary = rng.choice(pool)
            person.orgs.append((primary, True))
            others = [i for i in range(len(orgs)) if i != primary]
            if others and rng.random() < 0.25:
                person.orgs.append((rng.choice(others), False))
        f, la = _ascii(first), _ascii(last)
        domain = (
            orgs[person.orgs[0][0]].domain
            if person.orgs and rng.random() < 0.6
            else rng.choice(PERSONAL_DOMAINS)
        )
        styles = (f"{f}.{la}", f"{f}{la}", f"{f[0]}.{la}", f"{f}.{la}{{n}}", f"{f}_{la}")

        def email() -> str:
            return rng.choice(styles).replace("{n}", str(rng.randint(1, 99))) + "@" + domain

        person.email = self.unique(email)
        if rng.random() < 0.72:
            person.phone = self.unique(partial(self.phone, locale))
        if rng.random() < 0.3:
            person.chat_id = self.unique(lambda: "v_" + self.hex(12))
        for network, chance in (("facebook", 0.28), ("instagram", 0.32), ("twitter", 0.15)):
            if rng.random() < chance:
                person.handles[network] = self.handle(f, la, network)
        if rng.random() < 0.6:
            person.shop_id = self.unique(lambda: f"C{rng.randint(100000, 999999)}")
        roll = rng.random()
        premium_chance = 0.4 if person.orgs else 0.2
        if roll < 0.07:
            person.tier = Tier.VIP
        elif roll < 0.07 + premium_chance:
            person.tier = Tier.PREMIUM
        person.attributes = {
            "country": locale.country,
            "city": person.city,
            "loyalty_points": rng.randrange(0, 5000, 10),
            "newsletter": rng.random() < 0.55,
        }
        if person.tier == Tier.VIP:
            person.attributes["account_manager"] = "Olivia Chen"
        if rng.random() < 0.15:
            person.notes = rng.choice(CUSTOMER_NOTES)
        if person.orgs:
            person.company = orgs[person.orgs[0][0]].name
        else:
            kind = rng.choice(("Consulting", "Outdoor School", "Design Studio", "& Partners"))
            person.company = f"{last} {kind}"
        if locale.country == "US":
            person.vat = f"EIN {self.digits('##-#######')}"
        else:
            person.vat = locale.country + self.digits("#########")
        since_days = rng.uniform(45, 1100)
        person.since = self.now - _days(since_days)
        person.activity = rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 6))
        for _ in range(rng.choices((0, 1, 2, 3, 4), weights=(14, 34, 27, 15, 10))[0]):
            at = self.now - _days(rng.uniform(1, min(since_days - 1, 420)))
            self.order(person, rng.choice(PRODUCTS), at, self.history_status(at))
        return person

    def handle(self, first: str, last: str, network: str) -> str:
        rng = self.rng

        def make() -> str:
            base = rng.choice((f"{first}.{last}", f"{first}_{last}", f"{first}{last[:1]}"))
            suffix = rng.choice(("", "_outdoors", ".trails", "hikes", str(rng.randint(1, 99))))
            return f"{network}:{base}{suffix}"

        return self.unique(make).split(":", 1)[1]

    def cover_identities(self, people: list[CustomerPlan]) -> None:
        """Every channel needs someone who can write on it, even with a handful of customers."""
        rng = self.rng
        for need in ("phone", "facebook", "instagram", "twitter"):
            if not any(p.has(need) for p in people):
                person = people[rng.randrange(len(people))]
                f, la = _ascii(person.first), _ascii(person.last)
                if need == "phone":
                    person.phone = self.unique(partial(self.phone, person.locale))
                else:
                    person.handles[need] = self.handle(f, la, need)
        if not any(p.chat_id for p in people):
            people[rng.randrange(len(people))].chat_id = self.unique(lambda: "v_" + self.hex(12))
        if not any(p.shop_id for p in people):
            people[rng.randrange(len(people))].shop_id = self.unique(
                lambda: f"C{rng.randint(100000, 999999)}"
            )

    # -- tickets ----------------------------------------------------------------------------

    def spread(self, n: int, weights: Mapping[str, int]) -> list[str]:
        """n values: each key once (while n allows), the rest drawn by weight, shuffled."""
        keys = list(weights)
        values = keys[:n] + self.rng.choices(keys, weights=list(weights.values()), k=n - len(keys))
        values = values[:n]
        self.rng.shuffle(values)
        return values

    def tickets(self, n: int, people: list[CustomerPlan], portal: int) -> list[TicketPlan]:
        rng = self.rng
        statuses = self.spread(n, STATUS_WEIGHTS)
        channels = self.spread(n, CHANNEL_WEIGHTS)
        slots = []
        for status, channel in zip(statuses, channels, strict=True):
            low, high = STATUS_AGE_DAYS[status]
            slots.append((self.now - _days(rng.uniform(low, high)), status, channel))
        slots.sort(key=lambda slot: slot[0])
        # Conversational channels continue a customer's active ticket there, so a customer
        # gets at most one ticket that stays active per such channel (tickets are written in
        # this order, each finished before the next starts).
        busy: set[tuple[int, str]] = set()
        closed_email: list[TicketPlan] = []
        plans: list[TicketPlan] = []
        for key, (start, status, slot_channel) in enumerate(slots, start=1):
            channel = slot_channel
            parent = None
            if channel == Channel.EMAIL and status != Status.CLOSED and rng.random() < 0.08:
                earlier = [t for t in closed_email if (t.closed_at or start) < start - _minutes(60)]
                parent = rng.choice(earlier) if earlier else None
            if parent is not None:
                person = people[parent.customer]
            else:
                person, channel = self.requester(people, channel, portal, busy)
            if status in ACTIVE and channel in THREAD_BY_CUSTOMER:
                busy.add((person.key, channel))
            plan = self.ticket(key, start, status, channel, person, parent)
            plans.append(plan)
            if channel == Channel.EMAIL and status == Status.CLOSED:
                closed_email.append(plan)
        return plans

    def requester(
        self, people: list[CustomerPlan], channel: str, portal: int, busy: set[tuple[int, str]]
    ) -> tuple[CustomerPlan, str]:
        rng = self.rng
        need = CHANNEL_NEEDS.get(channel)
        eligible = [
            p
            for p in people
            if (need is None or p.has(need))
            and (channel not in THREAD_BY_CUSTOMER or (p.key, channel) not in busy)
        ]
        if not eligible:
            channel, eligible = Channel.EMAIL, people
        if channel == Channel.PORTAL and rng.random() < 0.45:
            return people[portal], channel
        return rng.choices(eligible, weights=[p.activity for p in eligible])[0], channel

    def topic(self, person: CustomerPlan) -> Topic:
        weights = []
        for topic in TOPICS:
            weight = float(topic.weight)
            if topic.b2b:
                weight = weight * 3 if person.orgs else 0
            if person.language != "en" and person.language in topic.texts:
                weight *= 3
            weights.append(weight)
        return self.rng.choices(TOPICS, weights=weights)[0]

    def agent_for(self, team: str, language: str) -> str:
        rng = self.rng
        if rng.random() < 0.08:
            return SUPERVISOR
        members = [s for s in STAFF if team in s.teams and s.role == Role.AGENT]
        speakers = [s for s in members if language in s.languages]
        return rng.choice(speakers or members).username

    def gap(self, channel: str, who: str) -> timedelta:
        """Time until the next step: agents answer chat in minutes and email in hours."""
        rng = self.rng
        if who == "quick":
            return _minutes(rng.uniform(0.3, 2) if channel in LIVE_CHANNELS else rng.uniform(2, 40))
        if channel in LIVE_CHANNELS:
            return _minutes(rng.uniform(0.5, 4))
        if channel in MESSAGING_CHANNELS:
            return _minutes(rng.uniform(4, 150) if who == "agent" else rng.uniform(2, 240))
        if channel == Channel.PHONE:
            return _minutes(rng.uniform(15, 300) if who == "agent" else rng.uniform(60, 1440))
        if who == "agent":
            return _minutes(rng.choice((rng.uniform(20, 240), rng.uniform(240, 1400))))
        return _minutes(rng.uniform(30, 1800))

    def delivery(self, channel: str) -> tuple[str, str]:
        rng = self.rng
        if channel == Channel.SMS and rng.random() < 0.05:
            return DeliveryState.FAILED, "Carrier rejected the message: unreachable handset (30003)"
        if channel in (Channel.CHAT, Channel.WHATSAPP, Channel.FACEBOOK, Channel.INSTAGRAM):
            return (DeliveryState.READ if rng.random() < 0.85 else DeliveryState.DELIVERED), ""
        if channel in (Channel.SMS, Channel.EMAIL):
            return DeliveryState.DELIVERED, ""
        return DeliveryState.SENT, ""

    def ticket(
        self,
        key: int,
        start: datetime,
        status: str,
        channel: str,
        person: CustomerPlan,
        parent: TicketPlan | None,
    ) -> TicketPlan:
        rng = self.rng
        topic = TOPIC_BY_KEY[parent.topic] if parent else self.topic(person)
        if parent:
            language = parent.language
        elif person.language in topic.texts and rng.random() < 0.85:
            language = person.language
        else:
            language = "en"
        script = topic.texts[language]
        phrases = PHRASES[language]
        candidates = [p for p in PRODUCTS if not topic.products or p.sku.startswith(topic.products)]
        product = rng.choice(candidates)
        order: OrderPlan | None = None
        if topic.order_status:
            solved = status in (Status.SOLVED, Status.CLOSED)
            order_status = (
                topic.order_status_solved
                if solved and topic.order_status_solved
                else topic.order_status
            )
            at = start - _days(rng.uniform(*topic.order_lag))
            order = self.order(person, product, at, order_status)
        values = {
            "first": person.first,
            "order": order.number if order else "",
            "product": product.name,
            "date": _date_text(order.at if order else start, language),
            "amount": _money(
                order.amount if order else Decimal(product.usd),
                person.locale.currency if order else "USD",
                language,
            ),
            "tracking": "1Z" + self.digits("################"),
            "company": person.company,
            "vat": person.vat,
            "city": person.city,
            "trace": f"TR-{self.digits('#####')}",
            "eng": self.digits("####"),
            "team": topic.team,
        }

        def fill(text: str) -> str:
            return text.format_map(values)

        subject = fill(script.subject)
        if parent is not None:
            subject = f"Re: {parent.subject}"
        priority = rng.choices(PRIORITIES, weights=topic.priority)[0]
        if person.tier == Tier.VIP and priority != "urgent" and rng.random() < 0.5:
            priority = PRIORITIES[PRIORITIES.index(priority) + 1]
        tags = list(topic.tags)
        if person.tier == Tier.VIP:
            tags.append("vip")
        if person.orgs:
            tags.append("b2b")
        custom: dict[str, Any] = {}
        if order is not None:
            custom = {"order_number": order.number, "sku": order.sku}
        plan = TicketPlan(
            key=key,
            channel=channel,
            status=status,
            customer=person.key,
            language=language,
            topic=topic.key,
            subject=subject,
            followup_of=parent.key if parent else None,
        )
        plan.ticket_fields = {"language": language}
        if channel == Channel.API:
            plan.ticket_fields.update(
                priority=priority,
                type=topic.type,
                tags=["shop-integration", *tags],
                custom_fields=custom,
            )
        if channel == Channel.CHAT:
            plan.thread_key = "chat_" + self.hex(16)
            plan.visitor_id = person.chat_id or "v_" + self.hex(12)
        elif channel in (Channel.FACEBOOK, Channel.INSTAGRAM, Channel.SOCIAL):
            plan.thread_key = f"{channel}_t_{self.digits('############')}"

        agent = self.agent_for(topic.team, language)
        agent_first = next(s.first_name for s in STAFF if s.username == agent)
        steps = plan.steps
        clock = start

        def customer_text(body: str) -> str:
            if channel == Channel.PHONE:
                seconds = rng.randint(15, 95)
                return f"{phrases.voicemail} ({seconds // 60}:{seconds % 60:02d}):\n{body}"
            if channel == Channel.EMAIL:
                return f"{body}\n\n{rng.choice(phrases.customer_signoffs)}\n{person.first}"
            return body

        def agent_text(body: str) -> str:
            if channel == Channel.PHONE:
                return f"{phrases.call_summary}\n\n{body}"
            if channel in LETTER_CHANNELS:
                # The greeting already names the customer: "Hi Ana, ... Sorry, Ana!" reads badly.
                body = body.replace(f", {person.first}", "")
                greeting = phrases.greeting.format(first=person.first)
                return f"{greeting}\n\n{body}\n\n{phrases.signoff}\n{agent_first}\n{STORE}"
            return body

        def photo() -> str:
            return f"IMG_{self.digits('####')}.png"

        def step(kind: str, gap: timedelta, **fields: Any) -> None:
            nonlocal clock
            clock = clock + gap
            steps.append(Step(kind=kind, at=clock, **fields))

        def inbound(body: str, *, attach: bool = False, subject: str = "") -> None:
            gap = timedelta(0) if not steps else self.gap(channel, "customer")
            step(
                "in",
                gap,
                text=customer_text(body),
                subject=subject,
                attachment=photo() if attach else "",
            )

        def reply(body: str) -> None:
            state, error = self.delivery(channel)
            step(
                "reply",
                self.gap(channel, "agent"),
                actor=agent,
                text=agent_text(fill(body)),
                delivery=state,
                error=error,
            )

        def note(body: str, author: str) -> None:
            if author == SPECIALIST:
                step("collab", self.gap(channel, "quick"), actor=agent, text=SPECIALIST)
            step("note", self.gap(channel, "quick"), actor=author, text=fill(body))

        def move(new_status: str, actor: str, gap: timedelta | None = None) -> None:
            step(
                "status",
                gap if gap is not None else _minutes(rng.uniform(0.2, 3)),
                actor=actor,
                status=new_status,
            )

        def topic_note() -> tuple[str, str]:
            if topic.specialist_note and rng.random() < 0.5:
                return topic.specialist_note, SPECIALIST
            if person.tier == Tier.VIP and rng.random() < 0.5:
                return VIP_NOTE, agent
            return rng.choice(topic.notes + GENERIC_NOTES[:1]), agent

        # The customer writes.
        opening = fill(script.opening)
        if parent is not None:
            opening = phrases.followup.format(subject=parent.subject)
        with_subject = channel in (Channel.EMAIL, Channel.PORTAL, Channel.API, Channel.WEB)
        inbound(
            opening,
            attach=topic.photo == "opening" and parent is None,
            subject=subject if with_subject else "",
        )
        # Routing: team, priority, type, tags (the API sets the latter itself).
        if status != Status.NEW or rng.random() < 0.5:
            changes: dict[str, Any] = {"team": topic.team}
            if channel != Channel.API:
                changes.update(priority=priority, type=topic.type, tags=tags, custom_fields=custom)
            actor = "automation:routing"
            if status != Status.NEW and rng.random() < 0.5:
                changes["assignee"] = agent
                actor = SUPERVISOR if rng.random() < 0.3 else actor
            step("update", self.gap(channel, "quick"), actor=actor, changes=changes)

        if status == Status.NEW:
            if rng.random() < 0.55:
                nudge = phrases.chat_nudge if channel in LIVE_CHANNELS else phrases.nudge
                inbound(nudge)
            else:
                text = VIP_NOTE if person.tier == Tier.VIP else rng.choice(TRIAGE_NOTES)
                step("note", self.gap(channel, "quick"), actor=SUPERVISOR, text=fill(text))
        elif status == Status.OPEN:
            reply(script.ask)
            inbound(script.answer, attach=topic.photo == "answer")
            if rng.random() < 0.4:
                note(*topic_note())
        elif status == Status.PENDING:
            if rng.random() < 0.3:
                note(*topic_note())
            reply(script.ask)
            move(Status.PENDING, agent)
        elif status == Status.ON_HOLD:
            if rng.random() < 0.6:
                reply(script.ask)
                inbound(script.answer, attach=topic.photo == "answer")
            note(rng.choice(HOLD_NOTES), agent)
            reply(phrases.hold)
            move(Status.ON_HOLD, agent)
        else:  # solved or closed
            thanks = channel in REPLY_AFTER_SOLVE and rng.random() < 0.3
            if rng.random() < 0.25:
                reply(script.resolve)
            else:
                reply(script.ask)
                if rng.random() < 0.5:
                    move(Status.PENDING, agent)
                inbound(script.answer, attach=topic.photo == "answer")
                if not thanks and rng.random() < 0.4:
                    note(*topic_note())
                reply(script.resolve)
            move(Status.SOLVED, agent)
            if thanks:
                inbound(phrases.thanks)  # reopens the ticket ...
                reply(phrases.welcome)
                move(Status.SOLVED, agent)  # ... and the agent solves it again
            if rng.random() < 0.35:
                rating = rng.choices(("good", "bad"), weights=(85, 15))[0]
                step(
                    "update",
                    _minutes(rng.uniform(600, 1800)),
                    actor="automation:csat-survey",
                    changes={"custom_fields": {"csat": rating}},
                )
            if status == Status.CLOSED:
                auto_close = _days(4) + _minutes(rng.uniform(0, 90))
                move(Status.CLOSED, "automation:auto-close", auto_close)

        # Nothing may happen in the future: slide the whole conversation back if needed.
        overflow = steps[-1].at - (self.now - _minutes(2))
        if overflow > timedelta(0):
            plan.steps = [Step(**{**s.__dict__, "at": s.at - overflow}) for s in steps]
        return plan


# ----------------------------------------------------------------------------------------------
# Writing the plan through the services
# ----------------------------------------------------------------------------------------------


@dataclass
class SeedResult:
    users_created: int = 0
    customers_created: int = 0
    orders_created: int = 0
    tickets_created: int = 0
    tickets_skipped: int = 0
    messages_created: int = 0
    admin_created: bool = False
    seconds: float = 0.0
    portal_username: str = ""
    agents: list[str] = field(default_factory=list)


DEMO_MAILBOX = "support@example.com"


DEMO_CHAT_SITE_KEY = "trailpeak-demo"

# Connected accounts for the demo's messaging channels. They are sandboxes: replies are
# written to <data dir>/outbox/<channel>/ instead of reaching a provider (nothing is set up
# with Twilio or Meta on a laptop), so agents can answer every demo ticket.
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("twilio_sms", "demo-sms", "Trailpeak SMS", "+14155550134"),
    ("twilio_whatsapp", "demo-whatsapp", "Trailpeak WhatsApp", "+14155550135"),
    ("twilio_voice", "demo-phone", "Trailpeak support line", "+14155550136"),
    ("meta_messenger", "demo-messenger", "Trailpeak on Facebook", "104857600000001"),
    ("meta_instagram", "demo-instagram", "@trailpeak", "17841400000000001"),
    ("generic", "demo-webhook", "Shop app (webhook)", "shopapp"),
)
DEMO_WHATSAPP_TEMPLATES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "order_update",
        "HXdemo0000000000000000000000000001",
        "Hi {{1}}, there is news about your order {{2}}. Reply to this message and we will "
        "pick up the conversation.",
        ("name", "order number"),
    ),
    (
        "follow_up",
        "HXdemo0000000000000000000000000002",
        "Hi {{1}}, we are following up on your request to Trailpeak Outfitters. Reply here "
        "whenever suits you.",
        ("name",),
    ),
)


def _demo_secrets(provider: str) -> dict[str, str]:
    """Made-up secrets of the right kind, so the webhook endpoints can be tried by hand
    (the generic webhook's is fixed and documented in docs/channels/webhook.md)."""
    if provider.startswith("twilio"):
        return {"auth_token": secrets.token_hex(16)}
    if provider.startswith("meta"):
        return {
            "app_secret": secrets.token_hex(16),
            "verify_token": "demo-verify-token",
            "page_token": secrets.token_urlsafe(24),
        }
    return {"signing_secret": "demo-webhook-secret"}


def messaging_accounts_ensure() -> list[MessagingAccount]:
    """The demo's sandbox accounts and WhatsApp templates (idempotent)."""
    accounts = []
    for provider, key, name, address in DEMO_ACCOUNTS:
        account = MessagingAccount.objects.filter(key=key).first()
        if account is None:
            account = account_create(
                provider=provider,
                name=name,
                key=key,
                address=address,
                account_sid="ACdemo00000000000000000000000000" if "twilio" in provider else "",
                options={"sandbox": True},
                secrets=_demo_secrets(provider),
            )
        accounts.append(account)
        if provider == "twilio_whatsapp":
            for template, content_sid, body, variables in DEMO_WHATSAPP_TEMPLATES:
                MessageTemplate.objects.get_or_create(
                    account=account,
                    name=template,
                    language="en",
                    defaults={
                        "content_sid": content_sid,
                        "body": body,
                        "variables": list(variables),
                    },
                )
    return accounts


def demo_seeded() -> bool:
    """True once a demo ticket exists (its first message carries a `demo-` provider id)."""
    return Message.objects.filter(provider_message_id__startswith=DEMO_PREFIX).exists()


def admin_password_is(password: str) -> bool:
    admin = User.objects.filter(username__iexact=ADMIN_USERNAME).first()
    return admin is not None and admin.check_password(password)


def domain_events_not_dispatched() -> AbstractContextManager[None]:
    """Store domain events (the feed shows them) but run no subscriber while seeding.

    Demo replies are history, not news: dispatching would queue hundreds of outbound sends of
    made-up replies on the broker (or stall on an unreachable one).
    """
    return bus.paused()


class _Backdater:
    """Moves the rows the services write to the simulated time of the step that wrote them:
    timeline events, the event outbox, identities the ingest attached, attachments.

    `stamp(when)` after each step notes how far each table has grown (one query); `flush()`
    then rewrites each table's new rows with one CASE update.
    """

    MODELS: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
        (TicketEvent, ("created_at",)),
        (DomainEvent, ("created_at",)),
        (CustomerEvent, ("created_at",)),
        (Identity, ("created_at", "updated_at")),
        (Attachment, ("created_at",)),
    )

    def __init__(self) -> None:
        self.done = self._highest()
        self.marks: list[tuple[datetime, tuple[int, ...]]] = []

    def _highest(self) -> tuple[int, ...]:
        quote = connection.ops.quote_name
        # Built from model metadata only, never from input.
        parts = [
            f"(SELECT MAX({quote(model._meta.pk.column)}) FROM {quote(model._meta.db_table)})"  # noqa: S608
            for model, _ in self.MODELS
        ]
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts))
            row = cursor.fetchone()
        return tuple(int(value or 0) for value in row)

    def stamp(self, when: datetime) -> None:
        self.marks.append((when, self._highest()))

    def flush(self) -> None:
        for index, (model, fields) in enumerate(self.MODELS):
            low = high = self.done[index]
            whens = []
            for when, highest in self.marks:
                if highest[index] > high:
                    high = highest[index]
                    whens.append(When(pk__lte=high, then=Value(when)))
            if whens:
                moved = Case(*whens, output_field=models.DateTimeField())
                model._default_manager.filter(pk__gt=low, pk__lte=high).update(
                    **dict.fromkeys(fields, moved)
                )
        if self.marks:
            self.done = self.marks[-1][1]
        self.marks.clear()


@dataclass
class _Context:
    plan: DemoPlan
    clock: _Backdater
    result: SeedResult
    password_hash: str
    users: dict[str, User] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        if name.startswith("automation:"):
            return Actor(kind="automation", name=name.split(":", 1)[1])
        return Actor.for_user(self.users[name])


def apply_plan(
    plan: DemoPlan,
    *,
    password: str = DEFAULT_PASSWORD,
    progress: Callable[[str], None] | None = None,
    batch_size: int = 25,
) -> SeedResult:
    """Write `plan` through the services; what already exists is left alone."""
    started = time.monotonic()
    say = progress or (lambda _message: None)
    # One hash for every demo login: hashing is deliberately slow.
    ctx = _Context(
        plan=plan,
        clock=_Backdater(),
        result=SeedResult(),
        password_hash=make_password(password),
    )
    with domain_events_not_dispatched():
        with transaction.atomic():
            _seed_staff(ctx)
            ctx.clock.flush()
            # A new user can mail this address (frontline smtpd) and watch the ticket appear.
            mailbox_ensure(
                address=DEMO_MAILBOX, name="Support", from_name="Trailpeak Outfitters Support"
            )
            messaging_accounts_ensure()
        say(f"staff: {len(ctx.users)} users in {len(ctx.teams)} teams")
        with transaction.atomic():
            _seed_customers(ctx)
        say(
            f"customers: {len(ctx.customers)} ({ctx.result.customers_created} new, "
            f"{ctx.result.orders_created} new orders)"
        )
        messages_before = Message.objects.count()
        tickets = plan.tickets
        for begin in range(0, len(tickets), batch_size):
            with transaction.atomic():
                for ticket_plan in tickets[begin : begin + batch_size]:
                    _seed_ticket(ctx, ticket_plan)
                    ctx.clock.flush()
            say(f"tickets: {min(begin + batch_size, len(tickets))}/{len(tickets)}")
        ctx.result.messages_created = Message.objects.count() - messages_before
    ctx.result.seconds = time.monotonic() - started
    return ctx.result


def _seed_staff(ctx: _Context) -> None:
    now = ctx.plan.now
    created: list[User] = []
    admin = User.objects.filter(username__iexact=ADMIN_USERNAME).first()
    if admin is None:
        admin = user_create(
            username=ADMIN_USERNAME,
            email=f"{ADMIN_USERNAME}@{STAFF_DOMAIN}",
            role=Role.ADMIN,
            display_name="Admin",
        )
        joined = now - _days(420)
        User.objects.filter(pk=admin.pk).update(date_joined=joined)
        AgentProfile.objects.filter(user=admin).update(created_at=joined, updated_at=joined)
        ctx.clock.stamp(joined)
        created.append(admin)
        ctx.result.admin_created = True
    ctx.users[ADMIN_USERNAME] = admin
    for index, spec in enumerate(STAFF):
        user = User.objects.filter(username__iexact=spec.username).first()
        if user is None:
            joined = now - _days(400 - 30 * index)
            user = user_create(
                username=spec.username,
                email=f"{spec.username}@{STAFF_DOMAIN}",
                role=spec.role,
                first_name=spec.first_name,
                last_name=spec.last_name,
                display_name=f"{spec.first_name} {spec.last_name}",
            )
            agent_profile_update(
                user=user,
                languages=list(spec.languages),
                capacity=dict(spec.capacity),
                skills=dict(spec.skills),
            )
            User.objects.filter(pk=user.pk).update(date_joined=joined)
            ctx.clock.stamp(joined)
            agent_presence_set(user=user, presence=spec.presence)
            active = now - _minutes(5 + 7 * index)
            ctx.clock.stamp(active)
            AgentProfile.objects.filter(user=user).update(
                created_at=joined,
                updated_at=active,
                presence_changed_at=active if spec.presence != "offline" else None,
            )
            created.append(user)
        ctx.users[spec.username] = user
        ctx.result.agents.append(spec.username)
    for name, description in TEAMS:
        team = Team.objects.filter(name=name).first()
        if team is None:
            members = [ctx.users[s.username] for s in STAFF if name in s.teams]
            team = team_create(name=name, description=description, members=members)
            Team.objects.filter(pk=team.pk).update(
                created_at=now - _days(400), updated_at=now - _days(400)
            )
        ctx.teams[name] = team
    User.objects.filter(pk__in=[u.pk for u in created]).update(password=ctx.password_hash)
    ctx.result.users_created += len(created)


def _seed_customers(ctx: _Context) -> None:
    plan = ctx.plan
    organisations: list[Organisation] = []
    for spec in plan.organisations:
        org = Organisation.objects.filter(name=spec.name).first()
        if org is None:
            org = organisation_create(
                name=spec.name,
                domains=[spec.domain],
                attributes={"country": spec.country, "account_type": "B2B"},
                notes=spec.notes,
                shared_tickets=spec.shared_tickets,
            )
            since = plan.now - _days(500)
            Organisation.objects.filter(pk=org.pk).update(created_at=since, updated_at=since)
        organisations.append(org)
    for person in plan.customers:
        customer = customer_by_identity(IdentityInput(kind="email", value=person.email))
        if customer is None:
            customer = customer_create(
                name=person.name,
                identities=[IdentityInput(kind="email", value=person.email)],
                language=person.language,
                tier=person.tier,
                attributes=person.attributes,
                notes=person.notes,
                actor="demo",
            )
            for identity in person.identities():
                # Someone else may hold it (seeded by an earlier, differently sized run).
                with contextlib.suppress(Conflict):
                    identity_add(customer=customer, identity=identity, actor="demo")
            for org_index, primary in person.orgs:
                customer_organisation_add(
                    customer=customer, organisation=organisations[org_index], primary=primary
                )
            Customer.objects.filter(pk=customer.pk).update(
                created_at=person.since, updated_at=person.since
            )
            Identity.objects.filter(customer=customer).update(
                created_at=person.since, updated_at=person.since
            )
            ctx.clock.stamp(person.since)
            ctx.result.customers_created += 1
        ctx.customers[person.key] = customer
        for order in sorted(person.orders, key=lambda o: o.at):
            if Order.objects.filter(number=order.number).exists():
                continue
            created = order_create(
                customer=customer,
                product=order.product,
                amount=order.amount,
                currency=order.currency,
                quantity=order.quantity,
                sku=order.sku,
                number=order.number,
                ordered_at=order.at,
                status=order.status,
            )
            Order.objects.filter(pk=created.pk).update(created_at=order.at, updated_at=order.at)
            ctx.clock.stamp(order.at)
            ctx.result.orders_created += 1
        ctx.clock.flush()
    _seed_portal_user(ctx)


def _seed_portal_user(ctx: _Context) -> None:
    person = ctx.plan.customers[ctx.plan.portal_customer]
    customer = ctx.customers[person.key]
    ctx.result.portal_username = person.email
    if customer.user_id is not None:
        ctx.result.portal_username = customer.user.username if customer.user else ""
        return
    user = User.objects.filter(username__iexact=person.email).first()
    if user is None:
        user = user_create(
            username=person.email,
            email=person.email,
            role=Role.CUSTOMER,
            first_name=person.first,
            last_name=person.last,
            display_name=person.name,
        )
        User.objects.filter(pk=user.pk).update(password=ctx.password_hash, date_joined=person.since)
        ctx.clock.stamp(person.since)
        ctx.clock.flush()
        ctx.result.users_created += 1
    if not Customer.objects.filter(user=user).exists():
        customer_portal_user_set(customer=customer, user=user)


def _photo(ctx: _Context, name: str) -> bytes:
    if name not in ctx.photos:
        seed = sum(name.encode())
        top = (40 + seed % 90, 90 + seed % 120, 60 + seed % 60)
        ctx.photos[name] = _png(64, 48, top, (200, 190 - seed % 60, 150))
    return ctx.photos[name]


def _png(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A small vertical-gradient PNG, so photo attachments are real images."""
    rows = []
    for y in range(height):
        mix = y / max(1, height - 1)
        pixel = bytes(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + pixel * width)

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _inbound(
    ctx: _Context, plan: TicketPlan, step: Step, provider_id: str, ticket_id: int | None
) -> InboundMessage:
    """The customer's message as a channel adapter would hand it to the ingest service."""
    person = ctx.plan.customers[plan.customer]
    channel = plan.channel
    first = ticket_id is None
    email = SenderIdentity(kind="email", value=person.email)
    sender: SenderIdentity | None = None
    others: tuple[SenderIdentity, ...] = ()
    customer_id: int | None = None
    references: tuple[str, ...] = ()
    explicit_ticket: int | None = None
    if channel == Channel.EMAIL:
        sender = email
        if not first:
            references = (plan.first_message_id,)
        elif plan.followup_of is not None:
            references = (f"{DEMO_PREFIX}{plan.followup_of}",)
    elif channel in (Channel.SMS, Channel.WHATSAPP, Channel.PHONE):
        sender = SenderIdentity(kind="phone", value=person.phone)
    elif channel == Channel.CHAT:
        sender = SenderIdentity(kind="chat", value=plan.visitor_id)
        others = (email,)  # the pre-chat form asks for it
    elif channel in (Channel.FACEBOOK, Channel.INSTAGRAM, Channel.SOCIAL):
        network = "twitter" if channel == Channel.SOCIAL else channel
        sender = SenderIdentity(kind="social", value=person.handles[network], network=network)
    elif channel == Channel.API:
        if person.shop_id:
            sender = SenderIdentity(kind="external", value=person.shop_id, network="shop")
            others = (email,)
        else:
            sender = email
        explicit_ticket = ticket_id
    else:  # portal (a signed-in customer) and web (typed in by an agent for them)
        customer_id = ctx.customers[plan.customer].pk
        explicit_ticket = ticket_id
    attachments: tuple[InboundAttachment, ...] = ()
    if step.attachment:
        attachments = (
            InboundAttachment(
                filename=step.attachment,
                content_type="image/png",
                content=_photo(ctx, step.attachment),
            ),
        )
    subject = step.subject
    if channel == Channel.EMAIL and not first:
        subject = f"Re: {plan.subject}"
    return InboundMessage(
        channel=channel,
        sender=sender,
        customer_id=customer_id,
        text=step.text,
        subject=subject,
        sender_name=person.name,
        other_identities=others,
        provider_message_id=provider_id,
        references=references,
        thread_key=plan.thread_key,
        ticket_id=explicit_ticket,
        attachments=attachments,
        received_at=step.at,
        ticket_fields=dict(plan.ticket_fields) if first else {},
    )


def _seed_ticket(ctx: _Context, plan: TicketPlan) -> None:
    steps = plan.steps
    result = inbound_message_ingest(_inbound(ctx, plan, steps[0], plan.first_message_id, None))
    if result.duplicate:
        ctx.result.tickets_skipped += 1
        return
    ctx.clock.stamp(steps[0].at)
    ctx.result.tickets_created += 1
    if not result.created_ticket:
        return  # it continued a conversation that was already there; leave that one be
    ticket = Ticket.objects.get(pk=result.ticket_id)
    inbound_count = 1
    for step in steps[1:]:
        if step.kind == "in":
            inbound_count += 1
            provider_id = f"{plan.first_message_id}-{inbound_count}"
            inbound_message_ingest(_inbound(ctx, plan, step, provider_id, ticket.pk))
        elif step.kind in ("reply", "note"):
            visibility = Visibility.PUBLIC if step.kind == "reply" else Visibility.INTERNAL
            message = ticket_services.message_add(
                ticket=ticket,
                actor=ctx.actor(step.actor),
                text=step.text,
                visibility=visibility,
                received_at=step.at,
            )
            if step.delivery:
                ticket_services.message_delivery_update(
                    message=message, state=step.delivery, error=step.error
                )
        elif step.kind == "collab":
            ticket_services.ticket_collaborator_add(
                ticket=ticket, user=ctx.users[step.text], actor=ctx.actor(step.actor)
            )
        elif step.kind == "status":
            ticket_services.ticket_update(
                ticket=ticket, actor=ctx.actor(step.actor), status=step.status
            )
        elif step.kind == "update":
            changes = dict(step.changes)
            if "team" in changes:
                changes["team"] = ctx.teams[changes["team"]]
            if "assignee" in changes:
                changes["assignee"] = ctx.users[changes["assignee"]]
            ticket_services.ticket_update(ticket=ticket, actor=ctx.actor(step.actor), **changes)
        ctx.clock.stamp(step.at)
    _backdate_ticket(ticket.pk, plan)


def _backdate_ticket(ticket_id: int, plan: TicketPlan) -> None:
    steps = plan.steps
    said = [s for s in steps if s.kind in ("in", "reply", "note")]
    fields: dict[str, Any] = {
        "created_at": steps[0].at,
        "updated_at": steps[-1].at,
        "last_message_at": said[-1].at,
        "last_customer_message_at": [s for s in steps if s.kind == "in"][-1].at,
    }
    replies = [s.at for s in steps if s.kind == "reply"]
    if replies:
        fields["first_response_at"] = replies[0]
    moves = {s.status: s.at for s in steps if s.kind == "status"}  # the last of each wins
    if plan.status in (Status.SOLVED, Status.CLOSED):
        fields["solved_at"] = moves[Status.SOLVED]
    if plan.status == Status.CLOSED:
        fields["closed_at"] = moves[Status.CLOSED]
    Ticket.objects.filter(pk=ticket_id).update(**fields)


def login_hint(url: str, password: str) -> str:
    base = url.rstrip("/")
    return f"Log in at {base}/login/ as {ADMIN_USERNAME} / {password}"


def seed(
    *,
    seed: int = 42,
    customers: int = 50,
    tickets: int = 300,
    password: str = DEFAULT_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Plan and write the demo data (the management command's whole job)."""
    plan = build_plan(seed=seed, customers=customers, tickets=tickets)
    return apply_plan(plan, password=password, progress=progress)
