"""WhenThen's own example requests, as its Intent API reference prints them: each operation's
`query` and `variables` exactly (whitespace and the variables the document does not declare
included). Only the JSON around them is made valid (the reference breaks lines inside the
string)."""

STARTINTENT = {
    "query": "mutation startIntent($trackingId: ID!,$paymentFlowId: ID!, $customer: IntentCustomerInput, $amount: IntentAmountInput!, $location: IntentLocationInput, $cart: IntentCartInput) {\n  startIntent(trackingId: $trackingId, paymentFlowId: $paymentFlowId,customer: $customer, amount: $amount, location: $location, cart: $cart) {\n    id\n    trackingId\n    paymentFlowId\n    status\n    statusDate\n    date\n    currency\n    amount {\n        formattedAmount\n    }\n    location {\n        country\n    }\n    customer {\n        id\n        isGuest\n    }\n    timeline {\n        intentStarted {\n            status\n            date\n        }\n        shipping {\n            status\n            date\n        }\n        delivery {\n            status\n            date\n        }\n        billing {\n            status\n            date\n        }\n        paymentAttempts {\n          status\n          date\n       }\n       completeIntent {\n          status\n          date\n       }\n    }\n    linkedPayments {\n      paymentId\n      status\n      time\n      title\n    }\n    cart {\n      id\n      weight\n      itemCount\n      items {\n          id\n          quantity\n          title\n          variantTitle\n          weight\n          taxable\n          requiresShipping\n          price\n          sku\n          lineTotal\n          image\n          discountedPrice\n          totalDiscount\n      }\n    }\n  }\n}",
    "variables": {
        "trackingId": "9f45995a-5129-438d-9459-dc4678510918",
        "paymentFlowId": "e76c5829-9928-425f-a815-7024d9164f2a",
        "customer": {"isGuest": True},
        "amount": {"amount": 5999, "currency": "USD"},
    },
}

GETINTENT = {
    "query": "query getIntent($id: ID!) {\n    getIntent(id: $id) {\n        id\n        trackingId\n        paymentFlowId\n        status\n        statusDate\n        date\n        currency\n        amount {\n            formattedAmount\n            rawAmount\n        }\n        location {\n            country\n        }\n        customer {\n            id\n            isGuest\n            email\n            name\n        }\n        timeline {\n            intentStarted {\n                status\n                date\n            }\n            shipping {\n                status\n                date\n            }\n            delivery {\n                status\n                date\n            }\n            billing {\n                status\n                date\n            }\n            paymentAttempts {\n              status\n              date\n            }\n            completeIntent {\n              status\n              date\n            }\n        }\n        linkedPayments {\n          paymentId\n          status\n          time\n          title\n        }\n        cart {\n          id\n          weight\n          itemCount\n          items {\n              id\n              quantity\n              title\n              variantTitle\n              weight\n              taxable\n              requiresShipping\n              price\n              sku\n              lineTotal\n              image\n              discountedPrice\n              totalDiscount\n          }\n        }\n     }\n\t}",
    "variables": {"id": "811ab3e2-6f24-493d-bcaa-a95395bc16a2"},
}

UPDATEINTENT = {
    "query": "mutation updateIntent($id: ID!, $trackingId: String, $customer: IntentCustomerInput, $amount: IntentAmountInput, $shipping: IntentShippingInput, $delivery: IntentDeliveryInput, $location: IntentLocationInput) {\n     updateIntent(id: $id, trackingId: $trackingId, customer: $customer, amount: $amount, shipping: $shipping, delivery: $delivery, location: $location){\n        id\n        trackingId\n        paymentFlowId\n        status\n        date\n        currency\n        amount {\n            formattedAmount\n        }\n        location {\n            country\n        }\n        customer {\n            id\n            isGuest\n        }\n        timeline {\n            intentStarted {\n                status\n                date\n            }\n            shipping {\n                status\n                date\n            }\n            delivery {\n                status\n                date\n            }\n            billing {\n                status\n                date\n            }\n            completeCheckout {\n                status\n                date\n            }\n        }\n    }\n  }",
    "variables": {
        "id": "811ab3e2-6f24-493d-bcaa-a95395bc16a2",
        "customer": {"id": "2", "email": "john@test.com", "name": "John Smith"},
        "amount": {"amount": 222, "currency": "EUR"},
        "paymentIntent": {
            "status": "NOT_STARTED",
            "outcome": "DECLINED",
            "paymentMethod": "CARD 2",
            "sca": True,
        },
        "shipping": {"status": "IN_PROGRESS"},
        "delivery": {"status": "COMPLETE"},
    },
}

COMPLETEINTENT = {
    "query": "mutation completeIntent($id: ID!, $paymentReference: ID) {\n  completeIntent(id: $id, paymentReference: $paymentReference){\n        id\n        trackingId\n        paymentFlowId\n        status\n        date\n        currency\n        amount {\n            formattedAmount\n        }\n        location {\n            country\n        }\n        customer {\n            id\n            isGuest\n        }\n\n        timeline {\n            intentStarted {\n                status\n                date\n            }\n            shipping {\n                status\n                date\n            }\n            delivery {\n                status\n                date\n            }\n            billing {\n                status\n                date\n            }\n            completeCheckout {\n                status\n                date\n            }\n        }\n    }\n\t}",
    "variables": {"id": "811ab3e2-6f24-493d-bcaa-a95395bc16a2", "paymentReference": "f6sepsen"},
}

# The answer the reference shows for startIntent (the intent object, every field).
STARTINTENT_ANSWER = {
    "id": "88b56c86-3e0f-4630-ae27-37b3dfa44ba2",
    "date": "2022-03-31T08:28:08.022971Z",
    "paymentFlowId": "1a1b53d2-e97d-4626-b8fc-20f758ae42c1",
    "trackingId": "d8c239e8-7bb5-4575-9473-ba0f3c67b97d",
    "currency": "USD",
    "amount": {"rawAmount": 100, "currency": "USD", "formattedAmount": "$1.00"},
    "status": "ACTIVE",
    "statusDate": "2022-03-31T08:28:08.02318Z",
    "location": {"country": "USA"},
    "customer": {"id": None, "isGuest": True, "email": "test@email.com", "name": "Customer Name"},
    "timeline": {
        "intentStarted": {"status": "IN_PROGRESS", "date": "2022-03-31T08:28:08.024711Z"},
        "shipping": {"status": "NOT_STARTED", "date": None},
        "delivery": {"status": "NOT_STARTED", "date": None},
        "billing": {"status": "NOT_STARTED", "date": None},
        "paymentAttempts": [{"status": "NOT_STARTED", "date": None}],
        "completeIntent": {"status": "NOT_STARTED", "date": None},
    },
    "linkedPayments": [
        {
            "paymentId": "payments:32e7a92b-aa07-48d9-86f2-b717c54d0e12",
            "status": "ACTIVE",
            "time": "2022-03-31T08:28:08.317531Z",
            "title": "Payment attempt #1",
        }
    ],
    "cart": {
        "id": "b5022fb1-1fc6-4791-a993-fe2fc5e19b0d",
        "weight": 12,
        "itemCount": 1,
        "items": [
            {
                "id": "4c5296c6-b3a8-4cb6-8a7e-2cb2cf4f3cad",
                "quantity": 2,
                "title": "Test Title",
                "variantTitle": "Variant Title",
                "weight": 64,
                "taxable": True,
                "requiresShipping": True,
                "price": 30,
                "sku": "d4241bf4-618a-4f33-a843-e4b0ffb310c8",
                "lineTotal": 100,
                "image": "some image url",
                "discountedPrice": 21,
                "totalDiscount": 21,
            }
        ],
    },
}
