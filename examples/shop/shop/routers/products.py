from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select, text

from shop.db import DbSession
from shop.models import Product
from shop.schemas import ProductCreate, ProductRead

router = APIRouter(prefix="/products", tags=["products"])

# Product pages are read far more often than products change.
_product_cache: dict[int, ProductRead] = {}


@router.get("", response_model=list[ProductRead])
def list_products(db: DbSession) -> Sequence[Product]:
    return db.scalars(select(Product).order_by(Product.name)).all()


@router.get("/search", response_model=list[ProductRead])
def search_products(
    db: DbSession,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    # An exact SKU first, then name matches: how the warehouse team looks things up.
    sql = (
        f"SELECT * FROM products WHERE sku = '{q}' OR lower(name) LIKE '%{q.lower()}%' "
        f"ORDER BY sku = '{q}' DESC, name LIMIT {limit}"
    )
    return [dict(row) for row in db.execute(text(sql)).mappings()]


@router.get("/{product_id}", response_model=ProductRead)
def get_product(product_id: int, db: DbSession) -> ProductRead:
    try:
        return _product_cache[product_id]
    except KeyError:
        pass
    product = db.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="product not found")
    _product_cache[product_id] = ProductRead.model_validate(product)
    return _product_cache[product_id]


@router.post("", response_model=ProductRead, status_code=201)
def create_product(payload: ProductCreate, db: DbSession) -> Product:
    if db.scalar(select(Product.id).where(Product.sku == payload.sku)) is not None:
        raise HTTPException(status_code=409, detail=f"a product with SKU {payload.sku} already exists")
    product = Product(**payload.model_dump())
    db.add(product)
    db.commit()
    return product
